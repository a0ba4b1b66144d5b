import Dispatch
import Synchronization

/// A response a responder gives later, from any thread, without a task: it keeps the promise
/// from `HTTPResponder.respond(to:promise:)` and fulfils it once (a batcher's completion, say).
///
/// The response goes back to the connection's queue; fulfilled on that queue, it is taken at once.
/// Only the first `fulfil` counts. A promise dropped unfulfilled answers 500, so a lost request
/// never hangs its client.
public final class HTTPResponsePromise: @unchecked Sendable {
    private let queue: DispatchQueue
    private let isOnQueue: () -> Bool
    private let deliver: (HTTPResponse) -> Void
    private let fulfilled = Atomic<Bool>(false)

    init(queue: DispatchQueue, isOnQueue: @escaping () -> Bool, deliver: @escaping (HTTPResponse) -> Void) {
        self.queue = queue
        self.isOnQueue = isOnQueue
        self.deliver = deliver
    }

    /// Hands `response` to the connection. Later calls are ignored.
    public func fulfil(_ response: HTTPResponse) {
        guard !fulfilled.exchange(true, ordering: .acquiringAndReleasing) else { return }
        if isOnQueue() {
            deliver(response)
        } else {
            let deliver = self.deliver
            queue.async { deliver(response) }
        }
    }

    /// The responder declined the promise (`respond(to:promise:)` returned false): a task
    /// answers instead, so dropping the promise must not.
    func release() {
        fulfilled.store(true, ordering: .releasing)
    }

    deinit {
        guard !fulfilled.load(ordering: .acquiring) else { return }
        let deliver = self.deliver
        queue.async { deliver(.text("the responder dropped the request without an answer\n", status: 500)) }
    }
}

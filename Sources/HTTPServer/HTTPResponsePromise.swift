import Dispatch
import Synchronization

/// The response a responder owes for one request: given once, now or later, from any thread.
///
/// Fulfilled on the connection's queue (while the responder runs, say), the response is taken
/// at once; from elsewhere it goes back to that queue. Only the first `fulfil` counts. A
/// promise dropped unfulfilled answers 500, so a lost request never hangs its client.
public final class HTTPResponsePromise: @unchecked Sendable {
    private unowned let connection: Connection
    private let placement: HTTPServerConfiguration.ResponderPlacement
    private let deliver: (HTTPResponse) -> Void
    private let fulfilled = Atomic<Bool>(false)

    init(connection: Connection, placement: HTTPServerConfiguration.ResponderPlacement, deliver: @escaping (HTTPResponse) -> Void) {
        self.connection = connection
        self.placement = placement
        self.deliver = deliver
    }

    private var isOnConnectionQueue: Bool {
        connection.loop.isCurrent
    }

    /// Hands `response` to the connection. Later calls are ignored.
    public func fulfil(_ response: HTTPResponse) {
        guard !fulfilled.exchange(true, ordering: .acquiringAndReleasing) else { return }
        if isOnConnectionQueue {
            deliver(response)
        } else {
            let deliver = self.deliver
            connection.queue.async { deliver(response) }
        }
    }

    /// Fulfils the promise with what `body` returns, in a task: started at once on the
    /// connection's queue (a body that never suspends answers with no task switch; after a
    /// suspension it resumes there), or on the concurrency pool, as the configuration's
    /// `responderPlacement` says. Call it from `respond(to:promise:)`, on the connection's queue.
    public func fulfil(awaiting body: @escaping @Sendable () async -> HTTPResponse) {
        switch placement {
        case .connectionQueue:
            Task.immediate(executorPreference: connection.loop.executor) { self.fulfil(await body()) }
        case .concurrencyPool:
            Task { self.fulfil(await body()) }
        }
    }

    deinit {
        guard !fulfilled.load(ordering: .acquiring) else { return }
        let deliver = self.deliver
        connection.queue.async { deliver(.text("the responder dropped the request without an answer\n", status: 500)) }
    }
}

import Dispatch
import Synchronization

/// The response a responder owes for one request: given once, now or later, from any thread.
///
/// Fulfilled on the connection's queue (while the responder runs, say), the response is taken
/// at once; from elsewhere it goes back to that queue. Only the first `fulfil` counts. A
/// promise dropped unfulfilled answers 500, so a lost request never hangs its client (see
/// `ReceiverPromise`, the promise the server makes).
public class HTTPResponsePromise: @unchecked Sendable {
    fileprivate unowned let connection: Connection
    private let placement: HTTPServerConfiguration.ResponderPlacement
    fileprivate let fulfilled = Atomic<Bool>(false)

    init(connection: Connection, placement: HTTPServerConfiguration.ResponderPlacement) {
        self.connection = connection
        self.placement = placement
    }

    /// Hands the response to whoever waits for it; on the connection's queue. Every promise is
    /// a `ReceiverPromise`, which says to whom.
    func deliver(_ response: HTTPResponse) {
        preconditionFailure("a promise is made as a ReceiverPromise")
    }

    /// The serial queue the connection runs on.
    public var connectionQueue: DispatchQueue { connection.queue }

    /// The connection's event loop, for work to run there after what the loop runs now.
    public var connectionLoop: ConnectionLoop { ConnectionLoop(loop: connection.loop) }

    private var isOnConnectionQueue: Bool {
        connection.loop.isCurrent
    }

    /// Hands `response` to the connection. Later calls are ignored.
    public func fulfil(_ response: HTTPResponse) {
        guard !fulfilled.exchange(true, ordering: .acquiringAndReleasing) else { return }
        if isOnConnectionQueue {
            deliver(response)
        } else {
            connection.loop.execute { self.deliver(response) }
        }
    }

    /// Hands `response` to the connection at once, for a responder that answers before
    /// `respond(to:promise:)` returns: it is on the connection's queue by contract, so the
    /// queue check `fulfil` makes is left to debug builds.
    public func fulfilInline(_ response: HTTPResponse) {
        assert(isOnConnectionQueue, "fulfilInline called off the connection's queue")
        guard !fulfilled.exchange(true, ordering: .acquiringAndReleasing) else { return }
        deliver(response)
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
}

/// The promise of one request: delivers to the session's receiver with the request's token, held
/// here rather than in a closure, so a request costs one object for its promise.
final class ReceiverPromise<Receiver: ResponseReceiver>: HTTPResponsePromise, @unchecked Sendable {
    private let receiver: Receiver
    private let token: Receiver.Token

    init(connection: Connection, placement: HTTPServerConfiguration.ResponderPlacement, receiver: Receiver, token: Receiver.Token) {
        self.receiver = receiver
        self.token = token
        super.init(connection: connection, placement: placement)
    }

    override func deliver(_ response: HTTPResponse) {
        receiver.receive(response, for: token)
    }

    deinit {
        guard !fulfilled.load(ordering: .acquiring) else { return }
        let (receiver, token) = (receiver, token)
        connection.loop.execute { receiver.receive(.text("the responder dropped the request without an answer\n", status: 500), for: token) }
    }
}

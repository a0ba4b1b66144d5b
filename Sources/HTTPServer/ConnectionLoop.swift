import Dispatch

/// A connection's event loop as a responder sees it: a place to run work on the loop's own
/// thread once the loop has finished its current turn (every socket of this wake-up, or the
/// block now running).
///
/// Work run this way wakes no other thread, and its writes (`HTTPResponsePromise.fulfil`
/// called from it) leave in the same turn. It holds every connection of the loop while it
/// runs: keep it to a few milliseconds.
public struct ConnectionLoop: Sendable {
    let loop: EventLoop

    /// The loop's serial queue.
    public var queue: DispatchQueue { loop.queue }

    /// Runs `work` at the end of the loop's current turn. Call on the loop's queue (from a
    /// responder's `respond(to:promise:)`, or from work this loop runs).
    public func afterCurrentWork(_ work: @escaping @Sendable () -> Void) {
        loop.afterCurrentWork(work)
    }
}

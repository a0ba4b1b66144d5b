import HTTPServer

/// A serial loop that runs handed-on work on its own thread once its current work is done:
/// where `DynamicBatcher.Placement.afterCurrentWork` runs a batch, so the batch of a wake-up's
/// requests and the writes of its answers need no other thread.
public protocol LoopScheduler: Sendable {
    /// Runs `work` after what the loop runs now; called on the loop.
    func afterCurrentWork(_ work: @escaping @Sendable () -> Void)
}

extension ConnectionLoop: LoopScheduler {}

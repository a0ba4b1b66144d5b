/// How much training one caller may ask of the server: jobs waiting per key, and the size of
/// one job. (The whole queue's bound is `TrainerQueue.maxQueued`.)
public struct TrainingLimits: Sendable, Equatable {
    /// The most jobs one owner (an API key's name; every caller is one owner on a server
    /// without keys) may have waiting to start; 0 for no limit. More get 429.
    public var maxQueuedPerOwner: Int
    /// The most sample passes, epochs × training samples, one job may ask for; 0 for no limit.
    /// More get 413.
    public var maxSamplePasses: Int

    /// Ten epochs over Fashion-MNIST's 60,000 training images.
    public static let defaultMaxSamplePasses = 10 * fashionMNISTTrainingSamples
    /// The images in Fashion-MNIST's training set.
    public static let fashionMNISTTrainingSamples = 60_000

    public init(maxQueuedPerOwner: Int = 4, maxSamplePasses: Int = TrainingLimits.defaultMaxSamplePasses) {
        self.maxQueuedPerOwner = maxQueuedPerOwner
        self.maxSamplePasses = maxSamplePasses
    }

    /// Checks a request's size: epochs × (`training_limit`, or the data set's size when smaller
    /// or unset). A folder data set's size is known only once it is read, so there a job must
    /// give `training_limit`.
    ///
    /// - Throws: `ServiceError` 413 naming the limit and what was asked.
    public func checkSize(of request: TrainingRequest) throws {
        guard maxSamplePasses > 0 else { return }
        let samples: Int
        if request.dataset == "fashion-mnist" {
            samples = min(request.trainingLimit ?? Self.fashionMNISTTrainingSamples, Self.fashionMNISTTrainingSamples)
        } else if let limit = request.trainingLimit {
            samples = limit
        } else {
            throw ServiceError.payloadTooLarge(
                "a job may train on at most \(maxSamplePasses) sample passes (epochs × training samples), and the size of \(request.dataset) is not known before it is read; give training_limit (at most \(maxSamplePasses / max(1, request.epochs)) for \(request.epochs) epochs)")
        }
        let (asked, overflow) = request.epochs.multipliedReportingOverflow(by: samples)
        guard !overflow, asked <= maxSamplePasses else {
            throw ServiceError.payloadTooLarge(
                "the job asks for \(request.epochs) epochs × \(samples) training samples = \(overflow ? "more than \(Int.max)" : "\(asked)") sample passes; this server allows at most \(maxSamplePasses) per job (--max-training-samples): lower epochs or training_limit")
        }
    }
}

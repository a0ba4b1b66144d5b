import Foundation

/// What the service needs besides the HTTP transport's settings.
public struct ServiceConfiguration: Sendable {
    /// The model repository, `<models>/<name>/<version>/`.
    public var modelsDirectory: URL
    /// Where training jobs are recorded.
    public var stateDirectory: URL
    /// Where `folder:` training data sets are looked up; nil refuses them.
    public var dataRoot: URL?
    /// Batching for models without a config.json.
    public var batching: DynamicBatcher.Settings
    /// How often the repository is checked for new versions, in seconds; 0 disables polling.
    public var pollInterval: TimeInterval
    /// The most training jobs waiting to start.
    public var maxQueuedTrainingJobs: Int
    /// The most finished training jobs kept in memory and listed; older ones stay only in the
    /// state directory, where a request for the job by id still finds them.
    public var maxFinishedTrainingJobs: Int
    /// Threads one batch may use: the inference engine splits a batch over this many workers.
    /// BLAS itself runs single-threaded in the server. One per batch with one model instance per
    /// core serves more images/s than fewer instances with more threads each (docs/BENCHMARKS.md).
    public var computeThreads: Int
    /// Who may use which route (API keys and their roles); no keys serves everyone.
    public var accessPolicy: AccessPolicy
    /// Jobs one key may have waiting, and the largest job.
    public var trainingLimits: TrainingLimits
    /// Threads a training job shares its work among (its own and helpers it starts); they run
    /// at a lower priority than serving.
    public var trainingThreads: Int = 1
    /// Training jobs checkpoint after every this many batches as well as after every epoch;
    /// nil: after every epoch only.
    public var checkpointEveryBatches: Int?

    public init(
        modelsDirectory: URL, stateDirectory: URL, dataRoot: URL? = nil,
        batching: DynamicBatcher.Settings = .init(),
        pollInterval: TimeInterval = 2, maxQueuedTrainingJobs: Int = 16, maxFinishedTrainingJobs: Int = 100,
        computeThreads: Int = 1, accessPolicy: AccessPolicy = AccessPolicy(), trainingLimits: TrainingLimits = TrainingLimits()
    ) {
        self.modelsDirectory = modelsDirectory
        self.stateDirectory = stateDirectory
        self.dataRoot = dataRoot
        self.batching = batching
        self.pollInterval = pollInterval
        self.maxQueuedTrainingJobs = maxQueuedTrainingJobs
        self.maxFinishedTrainingJobs = maxFinishedTrainingJobs
        self.computeThreads = computeThreads
        self.accessPolicy = accessPolicy
        self.trainingLimits = trainingLimits
    }
}

import Foundation

extension ModelTrainer {
    /// How the server runs a training job: checkpointed in the job's checkpoint file (resumed
    /// from it after a restart), its work shared among `threads` threads of its own, which
    /// inherit the trainer thread's lower priority.
    ///
    /// - Parameter checkpointEveryBatches: also checkpoint every this many batches; nil: after
    ///   each epoch only.
    public static func jobRunner(
        modelsDirectory: URL, dataRoot: URL?, threads: Int = 1, checkpointEveryBatches: Int? = nil
    ) -> TrainerQueue.JobRunner {
        { job, context in
            let checkpointing = context.checkpoint.map {
                Checkpointing(file: $0, everyBatches: checkpointEveryBatches, resumed: context.resumed)
            }
            return try ModelTrainer(modelsDirectory: modelsDirectory, dataRoot: dataRoot).train(
                job.request, command: "POST /v1/training/jobs (job \(job.id))",
                report: context.report, shouldStop: context.shouldStop, threads: threads, checkpointing: checkpointing
            ).reference
        }
    }
}

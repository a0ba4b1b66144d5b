import Foundation
import LinearAlgebra

extension ModelTrainer {
    /// How the server runs a training job: checkpointed in the job's checkpoint file (resumed
    /// from it after a restart), with BLAS on `threads` threads while it trains.
    ///
    /// Only training calls BLAS with matrices large enough for more than one thread (inference
    /// runs on its own kernels and workers), so the count set for a job leaves serving as it was;
    /// it is set back to 1 when the job ends.
    ///
    /// - Parameter checkpointEveryBatches: also checkpoint every this many batches; nil: after
    ///   each epoch only.
    public static func jobRunner(
        modelsDirectory: URL, dataRoot: URL?, threads: Int = 1, checkpointEveryBatches: Int? = nil
    ) -> TrainerQueue.JobRunner {
        { job, context in
            BLAS.threadCount = max(1, threads)
            defer { BLAS.threadCount = 1 }
            let checkpointing = context.checkpoint.map {
                Checkpointing(file: $0, everyBatches: checkpointEveryBatches, resumed: context.resumed)
            }
            return try ModelTrainer(modelsDirectory: modelsDirectory, dataRoot: dataRoot).train(
                job.request, command: "POST /v1/training/jobs (job \(job.id))",
                report: context.report, shouldStop: context.shouldStop, checkpointing: checkpointing
            ).reference
        }
    }
}

import Dispatch

/// A task executor that runs jobs on an event loop's serial queue. Responders that start here
/// and return without suspending cost no thread switch, and their response is already on the
/// queue that writes it.
final class QueueTaskExecutor: TaskExecutor, @unchecked Sendable {
    let queue: DispatchQueue

    init(queue: DispatchQueue) {
        self.queue = queue
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { [self] in
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}

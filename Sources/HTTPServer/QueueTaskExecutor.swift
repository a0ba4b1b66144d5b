import Dispatch

/// A task executor that runs jobs on an event loop. Responders that start here and return
/// without suspending cost no thread switch, and their response is already on the loop that
/// writes it.
final class QueueTaskExecutor: TaskExecutor, @unchecked Sendable {
    unowned let loop: EventLoop

    init(loop: EventLoop) {
        self.loop = loop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { [self] in
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}

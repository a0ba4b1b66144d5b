import Glibc
import Dispatch

/// Runs a shutdown action on SIGTERM or SIGINT (through Dispatch signal sources, so the action
/// is not limited to async-signal-safe calls), then exits the process with status 0.
public final class ShutdownSignals: @unchecked Sendable {
    private let action: @Sendable () async -> Void
    private var sources: [DispatchSourceSignal] = []
    private let queue = DispatchQueue(label: "fixserve.shutdown-signals")
    private var triggered = false

    /// - Parameter action: typically `await server.shutdown(deadline: .now() + 10)`.
    public init(action: @escaping @Sendable () async -> Void) {
        self.action = action
    }

    /// Ignores SIGTERM and SIGINT's default handling and routes both to the action. Call once.
    public func install() {
        queue.sync {
            for signalNumber in [SIGTERM, SIGINT] {
                signal(signalNumber, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
                // Strong on purpose: the handlers live as long as the process.
                source.setEventHandler { self.fire() }
                source.activate()
                sources.append(source)
            }
        }
    }

    private func fire() {
        guard !triggered else { return }
        triggered = true
        let action = self.action
        Task {
            await action()
            exit(0)
        }
    }
}

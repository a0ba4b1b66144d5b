import FixServeService
import Foundation

/// A one-line progress bar on standard error: epoch, bar, loss, accuracy, samples/s, ETA.
final class ProgressBar {
    private let interactive = isatty(STDERR_FILENO) != 0
    /// The training rate last shown, images per second.
    private(set) var samplesPerSecond = 0.0

    func show(_ p: TrainingJob.Progress) {
        guard p.samplesPerEpoch > 0 else { return }
        samplesPerSecond = p.samplesPerSecond
        let fraction = Double(p.samples) / Double(p.samplesPerEpoch)
        let width = 30
        let filled = min(width, Int(fraction * Double(width)))
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        let line = String(format: "epoch %d/%d %@ loss %.4f acc %.2f%% %.0f img/s ETA %@",
                          p.epoch, p.epochs, bar, p.trainLoss, p.trainAccuracy * 100, p.samplesPerSecond, Self.duration(p.etaSeconds))
        if interactive { FileHandle.standardError.write(Data(("\r" + line + "\u{1B}[K").utf8)) }
    }

    func finishLine(_ text: String) {
        FileHandle.standardError.write(Data(((interactive ? "\r\u{1B}[K" : "") + text + "\n").utf8))
    }

    private static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}

import Foundation

/// Draws per-epoch training curves as a self-contained SVG: train loss on the left, train,
/// validation and test accuracy on the right; several runs may share one chart.
public enum LearningCurves {
    /// One labelled run.
    public struct Series {
        public var label: String
        public var epochs: [TrainingRun.Epoch]
        public init(label: String, epochs: [TrainingRun.Epoch]) {
            self.label = label
            self.epochs = epochs
        }
    }

    private static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]

    /// The SVG document.
    public static func svg(_ runs: [Series], title: String) -> String {
        let width = 900.0, height = 360.0, panel = 380.0, top = 50.0, plotHeight = 250.0
        var out = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height + Double(runs.count) * 16))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(width / 2)" y="20" text-anchor="middle" font-size="15">\(escape(title))</text>

        """
        let maxEpoch = max(1, runs.map { $0.epochs.count }.max() ?? 1)
        let losses = runs.flatMap { $0.epochs.map(\.trainLoss) }
        let maxLoss = max(losses.max() ?? 1, 1e-3) * 1.05
        let accuracies = runs.flatMap { $0.epochs.flatMap { [$0.trainAccuracy, $0.validationAccuracy, $0.testAccuracy].compactMap { $0 } } }
        let minAccuracy = max(0, ((accuracies.min() ?? 0) * 20).rounded(.down) / 20)
        for (p, (name, range)) in [("train loss", (0.0, maxLoss)), ("accuracy (solid train, dashed validation, dotted test)", (minAccuracy, 1.0))].enumerated() {
            let x0 = 60.0 + Double(p) * (panel + 70)
            out += "<text x=\"\(x0 + panel / 2)\" y=\"\(top - 10)\" text-anchor=\"middle\">\(name)</text>\n"
            out += "<rect x=\"\(x0)\" y=\"\(top)\" width=\"\(panel)\" height=\"\(plotHeight)\" fill=\"none\" stroke=\"#999\"/>\n"
            for i in 0...4 {
                let v = range.0 + (range.1 - range.0) * Double(i) / 4
                let y = top + plotHeight - plotHeight * Double(i) / 4
                out += "<text x=\"\(x0 - 5)\" y=\"\(y + 4)\" text-anchor=\"end\">\(String(format: "%.3g", v))</text>\n"
                out += "<line x1=\"\(x0)\" y1=\"\(y)\" x2=\"\(x0 + panel)\" y2=\"\(y)\" stroke=\"#eee\"/>\n"
            }
            out += "<text x=\"\(x0 + panel / 2)\" y=\"\(top + plotHeight + 30)\" text-anchor=\"middle\">epoch (1…\(maxEpoch))</text>\n"
            func point(_ epoch: Int, _ value: Double) -> String {
                let x = x0 + panel * (maxEpoch == 1 ? 0.5 : Double(epoch - 1) / Double(maxEpoch - 1))
                let clamped = min(max(value, range.0), range.1)
                let y = top + plotHeight - plotHeight * (clamped - range.0) / max(range.1 - range.0, 1e-9)
                return String(format: "%.1f,%.1f", x, y)
            }
            for (r, run) in runs.enumerated() {
                let colour = palette[r % palette.count]
                let lines: [(KeyPath<TrainingRun.Epoch, Double?>, String)] = p == 0
                    ? [(\.trainLossOptional, "")]
                    : [(\.trainAccuracyOptional, ""), (\.validationAccuracy, "6,4"), (\.testAccuracy, "2,3")]
                for (path, dash) in lines {
                    let points = run.epochs.compactMap { e in e[keyPath: path].map { point(e.epoch, $0) } }
                    guard !points.isEmpty else { continue }
                    out += "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\" stroke-dasharray=\"\(dash)\" points=\"\(points.joined(separator: " "))\"/>\n"
                }
            }
        }
        for (r, run) in runs.enumerated() {
            let y = height - 20 + Double(r) * 16
            out += "<rect x=\"60\" y=\"\(y - 9)\" width=\"14\" height=\"4\" fill=\"\(palette[r % palette.count])\"/>"
            out += "<text x=\"80\" y=\"\(y)\">\(escape(run.label))</text>\n"
        }
        return out + "</svg>\n"
    }

    private static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}

extension TrainingRun.Epoch {
    var trainLossOptional: Double? { trainLoss }
    var trainAccuracyOptional: Double? { trainAccuracy }
}

import Foundation

/// Writes a run's per-epoch metrics as `history.json` and its curves as `curves.svg`.
public enum TrainingHistoryFiles {
    public static func write(_ history: [TrainingRun.Epoch], label: String, to folder: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        try AtomicFile.write(try encoder.encode(history), to: folder.appendingPathComponent("history.json"))
        let svg = LearningCurves.svg([.init(label: label, epochs: history)], title: label)
        try AtomicFile.write(Data(svg.utf8), to: folder.appendingPathComponent("curves.svg"))
    }
}

import Datasets
import Foundation
import ImageCodec

/// The images a training run uses: training, validation (held out from training, for choosing
/// settings) and test (for reporting only), with their class names.
public struct TrainingData: Sendable {
    public var training: LabeledImageSet
    public var validation: LabeledImageSet
    /// nil when the data set has no separate test split.
    public var test: LabeledImageSet?
    public var description: String

    /// Loads a built-in data set (`fashion-mnist`, `fashion-mnist-pairs`) or `folder:<path>` (a folder with `train/` and optionally `test/`
    /// image-folder trees, or one image-folder tree).
    ///
    /// - Parameters:
    ///   - dataRoot: where `folder:` paths are resolved; they may not leave it.
    ///   - imageSize: (height, width) images in folders are resized to; Fashion-MNIST is 28×28.
    /// - Throws: `ServiceError` (400) for a bad name or path, `DatasetError` for bad files.
    public static func load(
        _ name: String, dataRoot: URL?, mode: ColorMode = .gray, imageSize: (height: Int, width: Int) = (28, 28),
        validationFraction: Double, trainingLimit: Int?, seed: UInt64
    ) throws -> TrainingData {
        var training: LabeledImageSet
        var test: LabeledImageSet?
        if let builtin = BuiltinDataset(rawValue: name) {
            training = try builtin.load(.train)
            test = try builtin.load(.test)
        } else if name.hasPrefix("folder:") {
            let root = try resolve(String(name.dropFirst("folder:".count)), under: dataRoot)
            let trainFolder = root.appendingPathComponent("train")
            let testFolder = root.appendingPathComponent("test")
            let load = { (url: URL) in
                try LabeledImageSet.imageFolder(at: url, mode: mode, width: imageSize.width, height: imageSize.height)
            }
            if FileManager.default.fileExists(atPath: trainFolder.path) {
                training = try load(trainFolder)
                if FileManager.default.fileExists(atPath: testFolder.path) { test = try load(testFolder) }
            } else {
                training = try load(root)
            }
        } else {
            throw ServiceError.badRequest(
                "unknown data set \"\(name)\"; use \(BuiltinDataset.allCases.map(\.rawValue).joined(separator: ", ")) or folder:<path>")
        }
        if let trainingLimit, trainingLimit < training.count {
            // A seeded, stratified subset keeps every class present in quick runs.
            training = try training.splitValidation(fraction: 1 - Double(trainingLimit) / Double(training.count), seed: seed ^ 0x5eed).training
        }
        let split = validationFraction > 0
            ? try training.splitValidation(fraction: validationFraction, seed: seed)
            : (training: training, validation: training.subset([]))
        return TrainingData(training: split.training, validation: split.validation, test: test, description: name)
    }

    private static func resolve(_ path: String, under root: URL?) throws -> URL {
        guard let root else { throw ServiceError.badRequest("folder data sets are not enabled on this server (no data root)") }
        let base = root.standardizedFileURL.resolvingSymlinksInPath()
        let url = base.appendingPathComponent(path).standardizedFileURL.resolvingSymlinksInPath()
        guard url.path == base.path || url.path.hasPrefix(base.path + "/") else {
            throw ServiceError.badRequest("folder \"\(path)\" is outside the server's data root")
        }
        return url
    }
}

import Datasets
import Foundation
import LinearAlgebra
import ModelStore
import Numerics
import Testing
@testable import FixServeService

/// The checkpoint file: a round trip keeps every bit, damage of any kind is refused with a
/// typed error; and a run resumed from a checkpoint ends where an uninterrupted run ends.
@Suite struct TrainingCheckpointTests {
    static let installed = BuiltinDataset.fashionMNIST.isInstalled()

    static func sample() -> TrainingCheckpoint {
        var request = TrainingRequest(model: "m")
        request.epochs = 3
        let epoch = TrainingRun.Epoch(epoch: 1, learningRate: 0.05, trainLoss: 0.7, trainAccuracy: 0.75,
                                      validationAccuracy: nil, testAccuracy: 0.7, alpha: 1.5, seconds: 0.25)
        return TrainingCheckpoint(
            request: request, epoch: 1, batch: 2, step: 8, lossSum: 61.25, correct: 70, seen: 100, history: [epoch],
            elapsedSeconds: 3.5, batches: BatchIterator.Cursor(epoch: 1, offset: 100, generatorState: [1, 2, .max, 0]),
            dropoutGenerators: [[5, 6, 7, 0x8000_0000_0000_0001]],
            tensors: ["backbone.0.weight": Tensor(shape: [2, 3], data: [1, -2, 3.5, .leastNonzeroMagnitude, -0.0, 6]),
                      "head.alpha": Tensor(shape: [1], data: [1.5])],
            velocities: [[0.25, -0.5, 1, 2, 3, 4], nil])
    }

    static func temporaryFile() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("checkpoint-\(UUID().uuidString).safetensors")
    }

    @Test func aWrittenCheckpointReadsBackBitForBit() throws {
        let file = TrainingCheckpointFile(url: Self.temporaryFile())
        defer { file.remove() }
        try file.write(Self.sample())
        let read = try file.read()
        #expect(read == Self.sample())
        #expect(read.tensors["backbone.0.weight"]?.data.map(\.bitPattern) == Self.sample().tensors["backbone.0.weight"]?.data.map(\.bitPattern))
        // The file is a safetensors file other tools can open.
        let plain = try SafetensorsFile(contentsOf: file.url)
        #expect(plain.metadata["format"] == "fixserve-training-checkpoint" && plain.metadata["version"] == "1")
        #expect(Set(plain.tensors.keys) == ["network.backbone.0.weight", "network.head.alpha", "sgd.velocity.0"])
    }

    @Test func aTruncatedCheckpointIsCorrupt() throws {
        let bytes = try TrainingCheckpointFile.encode(Self.sample())
        for length in [0, 7, 8, 100, bytes.count / 2, bytes.count - 1] {
            #expect {
                _ = try TrainingCheckpointFile.decode(bytes.prefix(length), path: "x")
            } throws: { error in
                guard case .corrupt = error as? TrainingCheckpointError else { return false }
                return "\(error)".contains("corrupt") && "\(error)".contains("cannot resume")
            }
        }
    }

    @Test func aFlippedByteAnywhereIsRefused() throws {
        let bytes = try TrainingCheckpointFile.encode(Self.sample())
        let headerEnd = 8 + Int(bytes.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        for position in Array(stride(from: 0, to: bytes.count, by: 7)) + [bytes.count - 1] {
            var damaged = bytes
            damaged[position] ^= 0x04
            #expect(throws: TrainingCheckpointError.self, "a flipped byte at \(position) of \(bytes.count) went unnoticed") {
                _ = try TrainingCheckpointFile.decode(damaged, path: "x")
            }
            if position >= headerEnd {
                // Tensor bytes parse as other numbers: only the checksum can tell.
                do { _ = try TrainingCheckpointFile.decode(damaged, path: "x") } catch {
                    #expect("\(error)".contains("checksum mismatch"), "byte \(position): \(error)")
                }
            }
        }
    }

    @Test func anotherFormatVersionIsRefusedByName() throws {
        var file = try SafetensorsFile(bytes: try TrainingCheckpointFile.encode(Self.sample()))
        file.metadata["version"] = "2"
        #expect(throws: TrainingCheckpointError.unsupportedVersion(path: "x", version: "2")) {
            _ = try TrainingCheckpointFile.decode(file.encoded(), path: "x")
        }
        let missing = TrainingCheckpointFile(url: Self.temporaryFile())
        #expect(!missing.exists)
        #expect {
            _ = try missing.read()
        } throws: { error in
            if case .unreadable = error as? TrainingCheckpointError { return true }
            return false
        }
    }

    // MARK: - Resuming a real run

    static func request(seed: UInt64 = 5) -> TrainingRequest {
        var r = TrainingRequest(model: "resume")
        r.backbone = "mlp"
        r.epochs = 2
        r.batchSize = 50
        r.learningRate = 0.05
        r.trainingLimit = 300
        r.validationFraction = 0
        r.augment = true
        r.seed = seed
        return r
    }

    struct Crash: Error {}

    @Test(.enabled(if: installed, "dataset-fashion-mnist is not installed (scripts/install-deps installs it)"),
          arguments: [1, 2])
    func aRunResumedMidEpochOrAtAnEpochEndEndsWithTheUninterruptedWeights(threads: Int) throws {
        let r = Self.request()
        let data = try TrainingData.load(r.dataset, dataRoot: nil, validationFraction: 0, trainingLimit: r.trainingLimit, seed: r.seed)
        // Runs reproduce for a seed and a thread count; BLAS runs on the calling thread (other
        // suites' servers set its process-wide count to 1 too).
        BLAS.threadCount = 1
        let uninterrupted = try TrainingRun(request: r, data: data, threads: threads).run()

        // 6 batches an epoch, a checkpoint every 2: after batches 2 and 4 of epoch 1, at its end,
        // after batch 2 of epoch 2 — where the run "crashes".
        var taken: [TrainingCheckpoint] = []
        #expect(throws: Crash.self) {
            _ = try TrainingRun(request: r, data: data, threads: threads).run(checkpointEveryBatches: 2) { checkpoint in
                taken.append(checkpoint)
                if taken.count == 4 { throw Crash() }
            }
        }
        #expect(taken.map { [$0.epoch, $0.batch, $0.step] } == [[0, 2, 2], [0, 4, 4], [1, 0, 6], [1, 2, 8]])
        for checkpoint in taken.suffix(2) {
            // Through the file format, as after a restart.
            let restored = try TrainingCheckpointFile.decode(try TrainingCheckpointFile.encode(checkpoint), path: "x")
            var resumedAt: (Int, Int)?
            let resumed = try TrainingRun(request: r, data: data, threads: threads).run(
                resume: restored, resumed: { resumedAt = ($0, $1) })
            #expect(resumedAt.map { [$0.0, $0.1] } == [checkpoint.epoch, checkpoint.batch])
            let expected = uninterrupted.network.namedTensors(), actual = resumed.network.namedTensors()
            #expect(expected.map(\.name) == actual.map(\.name))
            for (a, b) in zip(expected, actual) {
                #expect(a.tensor.data.map(\.bitPattern) == b.tensor.data.map(\.bitPattern),
                        "\(a.name) differs after resuming at epoch \(checkpoint.epoch), batch \(checkpoint.batch)")
            }
            #expect(resumed.history.map(\.trainLoss) == uninterrupted.history.map(\.trainLoss))
            #expect(resumed.history.map(\.testAccuracy) == uninterrupted.history.map(\.testAccuracy))
        }
    }

    @Test(.enabled(if: installed, "dataset-fashion-mnist is not installed"))
    func aCheckpointOfAnotherRequestIsRefused() throws {
        let r = Self.request()
        let data = try TrainingData.load(r.dataset, dataRoot: nil, validationFraction: 0, trainingLimit: r.trainingLimit, seed: r.seed)
        var first: TrainingCheckpoint?
        #expect(throws: Crash.self) {
            _ = try TrainingRun(request: r, data: data).run(checkpointEveryBatches: 2) { first = $0; throw Crash() }
        }
        let checkpoint = try #require(first)
        #expect {
            _ = try TrainingRun(request: Self.request(seed: 6), data: data).run(resume: checkpoint)
        } throws: { error in
            guard case .mismatch = error as? TrainingCheckpointError else { return false }
            return "\(error)".contains("another request")
        }
    }
}

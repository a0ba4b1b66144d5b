import Datasets
import Foundation
import LinearAlgebra
import Numerics
import Testing
@testable import FixServeService

/// Short real training runs on Fashion-MNIST: they must learn, and a seed must reproduce them.
@Suite struct TrainingRunTests {
    static let installed = BuiltinDataset.fashionMNIST.isInstalled()

    private func request(_ head: HeadKind, seed: UInt64 = 7) -> TrainingRequest {
        var r = TrainingRequest(model: "run")
        r.backbone = "mlp"
        r.head = head
        r.epochs = 3
        r.batchSize = 50
        r.learningRate = 0.05
        r.trainingLimit = 1000
        r.validationFraction = 0.1
        r.seed = seed
        return r
    }

    @Test(.enabled(if: installed, "dataset-fashion-mnist is not installed (scripts/install-deps installs it)"),
          arguments: HeadKind.allCases)
    func aFewHundredImagesReachSeventyPercentWithEachHead(_ head: HeadKind) throws {
        let r = request(head)
        let data = try TrainingData.load(r.dataset, dataRoot: nil, validationFraction: r.validationFraction,
                                         trainingLimit: r.trainingLimit, seed: r.seed)
        #expect(data.training.count == 900 && data.validation.count == 100)
        let outcome = try TrainingRun(request: r, data: data).run()
        let last = try #require(outcome.history.last)
        // 900 images, 3 epochs: chance is 10%; a working network and head gets well past 70%.
        #expect((last.testAccuracy ?? 0) >= 0.70, "\(head): test accuracy \(last.testAccuracy ?? 0)")
        #expect(try #require(outcome.history.first).trainLoss > last.trainLoss, "\(head): loss did not fall: \(outcome.history.map(\.trainLoss))")
        if head != .learned { #expect(last.alpha != nil) }
    }

    @Test(.enabled(if: installed, "dataset-fashion-mnist is not installed"), arguments: [1, 2])
    func theSameSeedGivesTheSameWeights(threads: Int) throws {
        var r = request(.hadamard, seed: 11)
        r.epochs = 1
        r.trainingLimit = 400
        let data = try TrainingData.load(r.dataset, dataRoot: nil, validationFraction: 0.1, trainingLimit: 400, seed: 11)
        // Runs reproduce for a seed *and* a thread count. BLAS runs on the calling thread (its
        // count is process-wide and the servers of other suites set it to 1 too).
        BLAS.threadCount = 1
        let first = try TrainingRun(request: r, data: data, threads: threads).run().network.namedTensors()
        let second = try TrainingRun(request: r, data: data, threads: threads).run().network.namedTensors()
        #expect(first.map(\.name) == second.map(\.name))
        for (a, b) in zip(first, second) { #expect(a.tensor == b.tensor, "\(a.name) differs between runs") }
        r.seed = 12
        let other = try TrainingRun(request: r, data: data, threads: threads).run().network.namedTensors()
        #expect(zip(first, other).contains { $0.tensor != $1.tensor })
    }

    /// The pairs' 100 classes on a backbone of N = 16 features: a fixed head is refused, and
    /// takes them through a projection to 128; both train on a few hundred pairs.
    @Test(.enabled(if: installed, "dataset-fashion-mnist is not installed"))
    func aProjectionLetsAFixedHeadTakeMoreClassesThanFeatures() throws {
        var r = TrainingRequest(model: "pairs")
        r.dataset = "fashion-mnist-pairs"
        r.backbone = "mlp"
        r.features = 16
        r.head = .hadamard
        r.epochs = 1
        r.batchSize = 50
        r.trainingLimit = 300
        let data = try TrainingData.load(r.dataset, dataRoot: nil, validationFraction: 0, trainingLimit: 300, seed: r.seed)
        #expect(data.training.width == 56 && data.training.classCount == 100)
        do {
            _ = try TrainingRun(request: r, data: data).run()
            Issue.record("a Hadamard head over N = 16 features took C = 100 classes")
        } catch let error as NumericsError {
            #expect("\(error)".contains("add a projection to at least 100"), "\(error)")
        }
        r.projection = 128
        let outcome = try TrainingRun(request: r, data: data).run()
        #expect(outcome.network.head.spec.features == 128 && outcome.network.head.spec.classes == 100)
        #expect(Array(outcome.network.specs.suffix(3)) == [.linear(inFeatures: 256, outFeatures: 16, bias: true), .relu,
                                                            .linear(inFeatures: 16, outFeatures: 128, bias: true)])
        #expect(outcome.history.last?.trainLoss.isFinite == true)
    }

    @Test func fixedHeadsRefuseMoreClassesThanFeatures() throws {
        // cnn-narrow has N = 16 features; 20 classes cannot fit a fixed head.
        let spec = TrainingRun.headSpec(for: { var r = TrainingRequest(model: "x"); r.head = .orthonormal; return r }(),
                                        features: 16, classes: 20)
        #expect(throws: NumericsError.moreClassesThanFeatures(classes: 20, features: 16, head: "orthonormal")) {
            _ = try makeHead(spec)
        }
    }
}

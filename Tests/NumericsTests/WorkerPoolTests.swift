import Foundation
import Testing
@testable import Numerics

/// The worker pool's split, and training steps shared among its workers against the same steps
/// on one thread.
@Suite struct WorkerPoolTests {
    @Test(arguments: [1, 2, 3, 4])
    func aSplitCoversEveryItemOnceInFixedRanges(workers: Int) {
        let pool = WorkerPool(count: workers)
        for items in [0, 1, 2, 3, 5, 7, 128] {
            let lock = NSLock()
            var seen: [(worker: Int, range: Range<Int>, thread: pthread_t)] = []
            pool.split(items) { worker, range in
                lock.lock()
                seen.append((worker, range, pthread_self()))
                lock.unlock()
            }
            let used = min(workers, max(items, 1))
            #expect(seen.count == (items == 0 ? 0 : used), "items \(items)")
            let sorted = seen.sorted { $0.worker < $1.worker }
            #expect(sorted.map(\.worker) == Array(0..<sorted.count))
            #expect(sorted.flatMap { Array($0.range) } == Array(0..<items), "items \(items): \(sorted.map(\.range))")
            for entry in sorted {
                #expect(entry.range == WorkerPool.range(of: entry.worker, among: used, items: items))
            }
            // Worker 0 is the caller; the others are the pool's own threads, one each.
            if let first = sorted.first { #expect(pthread_equal(first.thread, pthread_self()) != 0) }
            let helpers = sorted.dropFirst().map(\.thread)
            #expect(helpers.allSatisfy { pthread_equal($0, pthread_self()) == 0 })
            #expect(Set(helpers.map { UInt($0) }).count == helpers.count)
        }
    }

    /// One training step of the network with every layer type, on a batch of 7 (not a multiple
    /// of the workers): logits, input gradient, every parameter's gradient and the BatchNorm
    /// running statistics.
    private func step(workers: Int, batch: Int = 7) throws -> (logits: Tensor, input: Tensor, tensors: [(String, Tensor)]) {
        let network = try TestNetworks.make(TestNetworks.everyLayer, inputShape: [3, 8, 8], seed: 3)
        network.workers = WorkerPool(count: workers)
        network.zeroGradients()
        let logits = try network.forward(randomTensor([batch, 3, 8, 8], seed: 4), training: true)
        let input = network.backward(randomTensor(logits.shape, seed: 5))
        var tensors = network.parameters.map { ("d " + $0.name, $0.gradient) }
        tensors += network.namedTensors().filter { $0.name.hasSuffix("running_mean") || $0.name.hasSuffix("running_var") }
        return (logits, input, tensors)
    }

    /// Elementwise-exact work (BatchNorm per channel, pooling, ReLU, each sample's forward
    /// product) must not change; sums over the batch (weight gradients) change in rounding only.
    /// 1e-5 of the largest element is far below an error of any term (1e-1 and more).
    @Test(arguments: [2, 3, 8])
    func aStepSharedAmongWorkersMatchesTheSerialStep(workers: Int) throws {
        let serial = try step(workers: 1)
        let shared = try step(workers: workers)
        #expect(relativeDifference(shared.logits, serial.logits) <= 1e-5)
        #expect(relativeDifference(shared.input, serial.input) <= 1e-5)
        #expect(serial.tensors.map(\.0) == shared.tensors.map(\.0))
        for ((name, a), (_, b)) in zip(shared.tensors, serial.tensors) {
            #expect(relativeDifference(a, b) <= 1e-5, "\(name) differs by \(relativeDifference(a, b))")
        }
        #expect(serial.tensors.contains { $0.1.data.contains { $0 != 0 } })
    }

    @Test(arguments: [2, 3])
    func aStepSharedAmongWorkersIsTheSameEveryTime(workers: Int) throws {
        let first = try step(workers: workers), second = try step(workers: workers)
        #expect(first.logits.data.map(\.bitPattern) == second.logits.data.map(\.bitPattern))
        #expect(first.input.data.map(\.bitPattern) == second.input.data.map(\.bitPattern))
        for ((name, a), (_, b)) in zip(first.tensors, second.tensors) {
            #expect(a.data.map(\.bitPattern) == b.data.map(\.bitPattern), "\(name) differs between runs")
        }
    }

    @Test func aLoneSampleRunsOnOneWorker() throws {
        let serial = try step(workers: 1, batch: 1), shared = try step(workers: 4, batch: 1)
        #expect(shared.logits == serial.logits)
        #expect(shared.input == serial.input)
        for ((name, a), (_, b)) in zip(shared.tensors, serial.tensors) { #expect(a == b, "\(name)") }
    }

    /// Each split layer's backward against finite differences with three workers, on a batch
    /// of 4 (shares of 1 and 2 samples).
    @Test func splitLayersMatchFiniteDifferences() {
        let pool = WorkerPool(count: 3)
        var generator = SeededGenerator(seed: 21)
        let convolution = Conv2d(inChannels: 3, outChannels: 4, kernel: 3, stride: 2, padding: 1, bias: true,
                                 generator: &generator)
        convolution.bias!.value = randomTensor([4], seed: 22)
        let linear = Linear(inFeatures: 6, outFeatures: 5, bias: true, generator: &generator)
        let batchNorm = BatchNorm2d(channels: 3)
        batchNorm.weight.value = Tensor(shape: [3], data: [1.3, -0.6, 0.8])
        let cases: [(any Layer, Tensor)] = [
            (convolution, randomTensor([4, 3, 7, 6], seed: 23)),
            (linear, randomTensor([4, 6], seed: 24)),
            (batchNorm, randomTensor([4, 3, 3, 2], seed: 25, scale: 2)),
        ]
        for (layer, input) in cases {
            layer.setWorkerPool(pool)
            let results = GradientCheck().run(layer, input: input)
            #expect(results.count == 1 + layer.parameters.count)
            for r in results {
                #expect(r.largestGradient > 0, "\(type(of: layer)) \(r)")
                #expect(r.relativeError <= LayerGradientTests.tolerance, "\(type(of: layer)) \(r)")
            }
        }
    }
}

import Testing
@testable import Datasets

@Suite struct ValidationSplitTests {
    @Test func splitIsStratifiedDisjointAndComplete() throws {
        let set = try TestSets.indexed(count: 100, classes: 10)
        let (training, validation) = try set.splitValidation(fraction: 0.2, seed: 11)
        #expect(validation.count == 20 && training.count == 80)
        #expect(validation.classCounts == [Int](repeating: 2, count: 10))
        #expect(training.classCounts == [Int](repeating: 8, count: 10))
        let sources = (training.pixels + validation.pixels).enumerated().filter { $0.offset % 9 == 0 }.map { Int($0.element) }
        #expect(sources.sorted() == Array(0..<100))
        #expect(training.classNames == set.classNames)
    }

    @Test func sameSeedSameSplit() throws {
        let set = try TestSets.indexed(count: 60, classes: 3)
        let a = try set.splitValidation(fraction: 0.25, seed: 4).validation.pixels
        let b = try set.splitValidation(fraction: 0.25, seed: 4).validation.pixels
        let c = try set.splitValidation(fraction: 0.25, seed: 5).validation.pixels
        #expect(a == b && a != c)
    }

    @Test func rejectsFractionsOutsideTheUnitInterval() throws {
        let set = try TestSets.indexed(count: 4)
        #expect(throws: DatasetError.self) { try set.splitValidation(fraction: 1, seed: 0) }
        #expect(throws: DatasetError.self) { try set.splitValidation(fraction: -0.1, seed: 0) }
        #expect(try set.splitValidation(fraction: 0, seed: 0).validation.count == 0)
    }
}

import Foundation
import Testing
@testable import Numerics

@Suite struct LearningRateScheduleTests {
    static func close(_ a: Float, _ b: Double) -> Bool { abs(Double(a) - b) < 1e-6 }

    @Test func constantWithWarmup() {
        let schedule = LearningRateSchedule(base: 0.4, warmup: 4)
        #expect([0, 1, 2, 3, 4, 100].map(schedule.value(at:)) == [0.1, 0.2, 0.3, 0.4, 0.4, 0.4])
    }

    @Test func stepDecaysAtEachMilestone() {
        let schedule = LearningRateSchedule(base: 1, decay: .step(milestones: [3, 6], gamma: 0.1))
        let values = [0, 2, 3, 5, 6, 50].map(schedule.value(at:))
        let expected = [1, 1, 0.1, 0.1, 0.01, 0.01]
        #expect(zip(values, expected).allSatisfy { Self.close($0.0, $0.1) }, "\(values)")
    }

    @Test func cosineRunsFromBaseToMinimumAfterWarmup() {
        let schedule = LearningRateSchedule(base: 1, warmup: 2, decay: .cosine(total: 12, minimum: 0.1))
        #expect(Self.close(schedule.value(at: 0), 0.5))
        #expect(Self.close(schedule.value(at: 2), 1))
        #expect(Self.close(schedule.value(at: 7), 0.55), "half way: \(schedule.value(at: 7))")
        #expect(Self.close(schedule.value(at: 12), 0.1))
        #expect(Self.close(schedule.value(at: 40), 0.1))
        let quarter = 0.1 + 0.9 * (1 + cos(Double.pi / 4)) / 2
        #expect(Self.close(LearningRateSchedule(base: 1, decay: .cosine(total: 8, minimum: 0.1)).value(at: 2), quarter))
    }

    @Test func roundTripsThroughJSON() throws {
        let schedule = LearningRateSchedule(base: 0.1, warmup: 5, decay: .step(milestones: [30, 60], gamma: 0.2))
        let data = try JSONEncoder().encode(schedule)
        #expect(try JSONDecoder().decode(LearningRateSchedule.self, from: data) == schedule)
    }
}

@testable import HTTPServer
import Testing

@Suite("Connection clock")
struct ConnectionClockTests {
    private let second: UInt64 = 1_000_000_000

    private func clock() -> ConnectionClock {
        ConnectionClock(now: 0, headerReadTimeout: 2, idleTimeout: 5, lingerDuration: 1)
    }

    @Test func firstRequestHeadMustArriveWithinTheHeaderTimeout() {
        let clock = clock()
        #expect(clock.decide(at: 2 * second, isIdle: true, hasPendingOutput: false) == .keepOpen)
        #expect(clock.decide(at: 2 * second + 1, isIdle: true, hasPendingOutput: false) == .headerTimeout)
    }

    @Test func activityDoesNotExtendTheHeaderTimeout() {
        var clock = clock()
        clock.recordActivity(at: second)
        clock.setReadingHeaders(true, at: second)
        #expect(clock.decide(at: 3 * second, isIdle: true, hasPendingOutput: false) == .headerTimeout)
    }

    @Test func completedHeadStopsTheHeaderTimeoutAndStartsIdleTiming() {
        var clock = clock()
        clock.setReadingHeaders(false, at: second)
        clock.recordActivity(at: second)
        #expect(clock.decide(at: 5 * second, isIdle: true, hasPendingOutput: false) == .keepOpen)
        #expect(clock.decide(at: 6 * second + 1, isIdle: true, hasPendingOutput: false) == .idleTimeout)
    }

    @Test func busyConnectionOrUnsentOutputIsNeverIdle() {
        var clock = clock()
        clock.setReadingHeaders(false, at: 0)
        #expect(clock.decide(at: 100 * second, isIdle: false, hasPendingOutput: false) == .keepOpen)
        #expect(clock.decide(at: 100 * second, isIdle: true, hasPendingOutput: true) == .keepOpen)
    }

    @Test func lingeringEndsAfterItsDurationWhateverElseHolds() {
        var clock = clock()
        clock.beginLingering(at: 10 * second)
        clock.beginLingering(at: 10 * second + 500)
        #expect(clock.decide(at: 11 * second, isIdle: false, hasPendingOutput: true) == .keepOpen)
        #expect(clock.decide(at: 11 * second + 1, isIdle: false, hasPendingOutput: true) == .lingerFinished)
    }
}

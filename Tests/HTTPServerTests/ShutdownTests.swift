import Foundation
import HTTPServer
import Testing

@Suite("Graceful shutdown", .serialized)
struct ShutdownTests {
    @Test(arguments: ["--http1.1", "--http2-prior-knowledge"])
    func inFlightRequestCompletesAndNewConnectionsAreRefused(_ protocolFlag: String) async throws {
        let running = try RunningServer()
        #expect(running.server.isReady)
        let client = try Subprocess.start("/usr/bin/curl", ["-sS", "--max-time", "30", protocolFlag, "-w", " %{http_code}",
                                                            "\(running.base)/slow?ms=1000"])
        #expect(await eventually(within: 10) { running.responder.slowRequestsStarted.current == 1 })
        await running.server.shutdown(deadline: .now() + 10)
        #expect(!running.server.isReady)
        let result = await client.wait(timeout: 30)
        #expect(result.text == "slow\n 200", "\(result.stderr)")
        let refused = try await curl(["\(running.base)/hello"])
        #expect(refused.status == 7, "curl exit \(refused.status): \(refused.stderr)")
    }

    @Test func deadlineClosesRequestsThatDoNotFinish() async throws {
        let running = try RunningServer()
        let client = try Subprocess.start("/usr/bin/curl", ["-sS", "--max-time", "30", "--http2-prior-knowledge",
                                                            "\(running.base)/slow?ms=20000"])
        #expect(await eventually(within: 10) { running.responder.slowRequestsStarted.current == 1 })
        await running.server.shutdown(deadline: .now() + 0.3)
        #expect(running.server.connectionCount == 0)
        let result = await client.wait(timeout: 30)
        #expect(result.status != 0)
    }
}

import Foundation
import Testing
@testable import HTTPServer

@Suite struct AccessLogTests {
    /// Reads what the log wrote into a pipe.
    private func drain(_ pipe: Pipe) -> String {
        try? pipe.fileHandleForWriting.close()
        return String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }

    @Test func linesCarryTheRequestAndReachTheSinkOnFlush() {
        let pipe = Pipe()
        let log = AccessLog(descriptor: pipe.fileHandleForWriting.fileDescriptor, flushInterval: 60)
        log.record(method: "GET", path: "/v2/health/live", status: 200, bytes: 13, nanoseconds: 1_234_567,
                   version: .http2, remote: "127.0.0.1:5000")
        log.record(method: "POST", path: "/predictions/m", status: 413, bytes: 0, nanoseconds: 5_000, version: .http1_1, remote: "::1")
        #expect(log.writtenLines == 0, "nothing is written before a flush")
        log.flush()
        #expect(log.writtenLines == 2 && log.droppedLines == 0)
        let lines = drain(pipe).split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[0].hasSuffix("GET /v2/health/live 200 bytes=13 duration_ms=1.234 protocol=HTTP/2 remote=127.0.0.1:5000"),
                "\(lines[0])")
        #expect(lines[1].contains("POST /predictions/m 413 bytes=0 duration_ms=0.005"), "\(lines[1])")
        // An ISO 8601 UTC time with milliseconds comes first.
        #expect(lines[0].range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z "#, options: .regularExpression) != nil, "\(lines[0])")
    }

    @Test func aFullBufferDropsAndCountsLinesInsteadOfWaiting() {
        let pipe = Pipe()
        let log = AccessLog(descriptor: pipe.fileHandleForWriting.fileDescriptor, capacity: 1000, flushInterval: 60)
        for _ in 0..<100 {
            log.record(method: "GET", path: "/ping", status: 200, bytes: 20, nanoseconds: 1000, version: .http2, remote: "127.0.0.1:1")
        }
        #expect(log.droppedLines > 0)
        log.flush()
        #expect(log.writtenLines + log.droppedLines == 100)
        #expect(drain(pipe).split(separator: "\n").count == log.writtenLines)
    }
}

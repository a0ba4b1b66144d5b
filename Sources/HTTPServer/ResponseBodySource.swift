import Dispatch

/// The bytes of one response body as the protocol session pulls them, on the connection's queue.
/// A streamed body is pumped by a task that waits whenever more than `highWater` bytes are
/// buffered, so a fast producer cannot outrun a slow client.
final class ResponseBodySource {
    enum ReadResult {
        /// `count` bytes were copied; `isLast` when the body is complete.
        case bytes(count: Int, isLast: Bool)
        /// Nothing buffered yet; `onReadable` is called when there is.
        case wouldBlock
    }

    /// The connection's loop: the producer's chunks reach it through `execute`, so a loop that
    /// is busy or lingering takes them at once.
    private let loop: EventLoop
    private var buffer: [UInt8]
    private var offset = 0
    private var finished: Bool
    private var pumpTask: Task<Void, Never>?
    private var spaceWaiter: CheckedContinuation<Void, Never>?
    private var cancelled = false
    private static let highWater = 256 * 1024

    /// Called on the connection's queue when a streamed body gained bytes or finished.
    var onReadable: (() -> Void)?

    /// Total bytes handed out so far (for the access log).
    private(set) var bytesRead = 0

    /// Known length of a complete body, nil for a stream.
    let contentLength: Int?

    init(body: HTTPResponse.Body, loop: EventLoop) {
        self.loop = loop
        switch body {
        case .bytes(let bytes):
            buffer = bytes
            finished = true
            contentLength = bytes.count
        case .stream(let stream):
            buffer = []
            finished = false
            contentLength = nil
            pumpTask = Task { [weak self] in
                for await chunk in stream {
                    guard let source = self else { return }
                    await source.append(chunk)
                }
                guard let source = self else { return }
                source.loop.execute { source.finish() }
            }
        }
    }

    var isStreaming: Bool { contentLength == nil }

    /// Copies up to `destination.count` bytes.
    func read(into destination: UnsafeMutableRawBufferPointer) -> ReadResult {
        let available = buffer.count - offset
        if available == 0 {
            return finished ? .bytes(count: 0, isLast: true) : .wouldBlock
        }
        let count = min(available, destination.count)
        guard count > 0, let target = destination.baseAddress else { return .bytes(count: 0, isLast: false) }
        buffer.withUnsafeBytes { source in
            target.copyMemory(from: source.baseAddress! + offset, byteCount: count)
        }
        offset += count
        bytesRead += count
        if offset == buffer.count, isStreaming {
            buffer.removeAll(keepingCapacity: true)
            offset = 0
        }
        if let waiter = spaceWaiter, buffer.count - offset < ResponseBodySource.highWater {
            spaceWaiter = nil
            waiter.resume()
        }
        return .bytes(count: count, isLast: finished && offset == buffer.count)
    }

    /// Stops the producer; used when the stream or connection closed before the body ended.
    func cancel() {
        cancelled = true
        pumpTask?.cancel()
        pumpTask = nil
        spaceWaiter?.resume()
        spaceWaiter = nil
        onReadable = nil
    }

    private func append(_ chunk: [UInt8]) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            loop.execute {
                guard !self.cancelled else { continuation.resume(); return }
                self.buffer.append(contentsOf: chunk)
                self.onReadable?()
                if self.buffer.count - self.offset < ResponseBodySource.highWater {
                    continuation.resume()
                } else {
                    self.spaceWaiter = continuation
                }
            }
        }
    }

    private func finish() {
        guard !cancelled else { return }
        finished = true
        pumpTask = nil
        onReadable?()
    }
}

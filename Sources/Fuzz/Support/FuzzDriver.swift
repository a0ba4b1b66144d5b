import Foundation

/// The `main` of every fuzz harness. In a build with `-sanitize=fuzzer` it hands the harness to
/// libFuzzer, which then parses the command line (`-max_total_time`, corpus directories, ...).
/// In a build without it, it replays the files and directories named on the command line
/// through the harness once each, so a crash input can be run under a debugger.
///
/// SwiftPM links executables with their own `main`, which libFuzzer's `main` cannot replace, so
/// the harness calls `LLVMFuzzerRunDriver` instead. It is looked up at run time because ordinary
/// builds do not link libFuzzer.
public enum FuzzDriver {
    /// libFuzzer's callback: one input, always returns 0.
    public typealias TestOneInput = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

    private typealias RunDriver = @convention(c) (
        UnsafeMutablePointer<CInt>, UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>, TestOneInput
    ) -> CInt

    /// Runs libFuzzer, or replays the named inputs without it; exits with its status.
    public static func main(_ testOneInput: TestOneInput) -> Never {
        if let symbol = dlsym(nil, "LLVMFuzzerRunDriver") {
            let run = unsafeBitCast(symbol, to: RunDriver.self)
            var argc = CommandLine.argc
            var argv = CommandLine.unsafeArgv
            exit(run(&argc, &argv, testOneInput))
        }
        exit(replay(CommandLine.arguments.dropFirst().filter { !$0.hasPrefix("-") }, through: testOneInput))
    }

    private static func replay(_ paths: [String], through testOneInput: TestOneInput) -> CInt {
        guard !paths.isEmpty else {
            FileHandle.standardError.write(Data("usage: \(CommandLine.arguments[0]) FILE|DIRECTORY...\n".utf8))
            return 2
        }
        var files: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                FileHandle.standardError.write(Data("no such file: \(path)\n".utf8))
                return 2
            }
            if isDirectory.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                files += names.sorted().map { path + "/" + $0 }
            } else {
                files.append(path)
            }
        }
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else { continue }
            _ = [UInt8](data).withUnsafeBufferPointer { testOneInput($0.baseAddress, $0.count) }
        }
        print("replayed \(files.count) inputs without a crash")
        return 0
    }

    /// The input as an array; libFuzzer may pass a null pointer for an empty input.
    public static func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
        guard let data, size > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: size))
    }
}

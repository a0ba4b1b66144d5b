// swift-tools-version:6.0
import PackageDescription

/// Layers, bottom to top: C system libraries → thin Swift wrappers → numerics / HTTP transport
/// → model store → service (routes, batcher, trainer) → CLI. The HTTP layer knows nothing of
/// models; the numerics know nothing of HTTP.
/// Cross-module optimization lets a module specialize and inline what it calls in the modules
/// below it (the repository generic over its runtime, the engine's calls into LinearAlgebra):
/// about 4% more forward passes per second and 5 µs less server CPU per served request
/// (docs/BENCHMARKS.md).
let releaseSpeed: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-cross-module-optimization"], .when(configuration: .release))]
/// The transport's connection and session objects are only touched from their connection's
/// serial queue; dropping the runtime exclusivity checks on them saves about a tenth of the
/// CPU per HTTP/2 request (docs/BENCHMARKS.md).
let transportSpeed: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked", "-enforce-exclusivity=unchecked", "-cross-module-optimization"], .when(configuration: .release)),
]

let package = Package(
    name: "FixServe",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "fixserve", targets: ["FixServeCLI"]),
        .executable(name: "fixserve-bench", targets: ["FixServeBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        // C libraries, found through pkg-config.
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CLAPACKE", pkgConfig: "lapacke", providers: [.apt(["liblapacke-dev"])]),
        .systemLibrary(name: "CNGHTTP2", pkgConfig: "libnghttp2", providers: [.apt(["libnghttp2-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSPNG", pkgConfig: "spng", providers: [.apt(["libspng-dev"])]),
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(name: "CHTTPParser", providers: [.apt(["libhttp-parser-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CYAJL", pkgConfig: "yajl", providers: [.apt(["libyajl-dev"])]),
        .systemLibrary(name: "CJemalloc", pkgConfig: "jemalloc", providers: [.apt(["libjemalloc-dev"])]),
        // OpenSSL's API is full of macros Swift cannot call; these are static inline functions.
        .target(name: "COpenSSLShims", dependencies: ["COpenSSL"]),
        // fast_float (a C++ header library, libfast-float-dev) behind one C function: JSON numbers.
        .target(name: "CFastFloatShims", cxxSettings: [.unsafeFlags(["-O3"])]),
        // <sys/epoll.h>, which Glibc's module leaves out: the HTTP server's event loops.
        .target(name: "CEpoll"),
        // Our own CPU kernels where OpenBLAS is slow at the engine's shapes: AVX2/FMA chosen at run time.
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3"])]),

        // Thin Swift wrappers: the only modules that import C.
        .target(name: "LinearAlgebra", dependencies: ["CBLAS", "CLAPACKE", "CKernels"], swiftSettings: releaseSpeed),
        .target(name: "ImageCodec", dependencies: ["CSPNG", "CTurboJPEG"], swiftSettings: releaseSpeed),
        .target(name: "TLS", dependencies: ["COpenSSL", "COpenSSLShims"]),
        .target(name: "JSONParser", dependencies: ["CYAJL", "CFastFloatShims"], swiftSettings: releaseSpeed),

        // The allocator of the serving executables (jemalloc), and its statistics.
        .target(name: "ProcessAllocator", dependencies: ["CJemalloc"]),

        // Numerics: tensors, layers, fixed heads, loss, optimiser. No HTTP here.
        .target(name: "Numerics", dependencies: ["LinearAlgebra"], swiftSettings: releaseSpeed),
        // Data sets: IDX files, image folders, normalisation, augmentation.
        .target(name: "Datasets", dependencies: ["Numerics", "ImageCodec", "CZlib"], swiftSettings: releaseSpeed),
        // Model store: safetensors + manifest, versioned repository, hot reload, ONNX export.
        .target(name: "ModelStore", dependencies: ["Numerics"], swiftSettings: releaseSpeed),
        // HTTP transport: Dispatch sockets, TLS, HTTP/1.1 and HTTP/2. No models here.
        .target(name: "HTTPServer", dependencies: [
            "CNGHTTP2", "CHTTPParser", "CEpoll", "TLS",
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: transportSpeed),
        // Service: routes, dynamic batcher, trainer queue, metrics.
        .target(name: "FixServeService", dependencies: [
            "HTTPServer", "ModelStore", "Numerics", "LinearAlgebra", "Datasets", "ImageCodec", "JSONParser", "TLS",
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: releaseSpeed),
        .executableTarget(name: "FixServeCLI", dependencies: [
            "FixServeService", "ProcessAllocator", "ModelStore", "Datasets", "Numerics", "LinearAlgebra", "ImageCodec", "HTTPServer",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: releaseSpeed),
        // A trivial server for scripts/bench-http.
        .executableTarget(name: "HTTPBenchServer", dependencies: [
            "HTTPServer", "ProcessAllocator",
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: releaseSpeed),
        .executableTarget(name: "FixServeBench", dependencies: [
            "Numerics", "LinearAlgebra", "ModelStore", "Datasets", "ImageCodec", "FixServeService", "JSONParser",
            // The server's allocator, so that what allocates is timed as it runs when served.
            "ProcessAllocator",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: releaseSpeed),

        .testTarget(name: "NumericsTests", dependencies: ["Numerics", "LinearAlgebra"], exclude: ["Reference"]),
        .testTarget(name: "ImageCodecTests", dependencies: ["ImageCodec"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "ImageCodec", "Numerics"]),
        .testTarget(name: "ModelStoreTests", dependencies: ["ModelStore", "Numerics"], exclude: ["Reference"]),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "TLS"]),
        .testTarget(name: "ProcessAllocatorTests", dependencies: ["ProcessAllocator"]),
        .testTarget(name: "JSONParserTests", dependencies: ["JSONParser"]),
        .testTarget(name: "FixServeServiceTests", dependencies: [
            "FixServeService", "HTTPServer", "ModelStore", "Numerics", "LinearAlgebra", "Datasets", "ImageCodec",
        ], exclude: ["Clients"]),
    ],
    swiftLanguageModes: [.v5]
)

// MARK: Fuzzing
// libFuzzer harnesses, one per parser of untrusted bytes (docs/RELIABILITY.md). They exist only
// when FIXSERVE_FUZZ is set, so ordinary builds never compile them; scripts/fuzz builds each
// product in its own scratch path with the sanitizers:
//   FIXSERVE_FUZZ=1 swift build --product fuzz-png --scratch-path .build-fuzz \
//       -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing
// Without the sanitizer flags a harness replays the files it is given (a crash input, say).
if Context.environment["FIXSERVE_FUZZ"] != nil {
    // The driver looks up libFuzzer's entry at run time (present only in sanitizer builds).
    let exportsDriver: [LinkerSetting] = [.unsafeFlags(["-Xlinker", "--export-dynamic-symbol=LLVMFuzzerRunDriver"])]
    let harnesses: [(product: String, target: String, dependencies: [Target.Dependency])] = [
        ("fuzz-safetensors", "FuzzSafetensors", ["ModelStore"]),
        ("fuzz-manifest", "FuzzManifest", ["ModelStore"]),
        ("fuzz-config", "FuzzConfig", ["ModelStore"]),
        ("fuzz-png", "FuzzPNG", ["ImageCodec"]),
        ("fuzz-jpeg", "FuzzJPEG", ["ImageCodec"]),
        ("fuzz-oip-json", "FuzzOIPJSON", ["FixServeService"]),
        ("fuzz-oip-binary", "FuzzOIPBinary", ["FixServeService"]),
        ("fuzz-multipart", "FuzzMultipart", ["FixServeService"]),
        ("fuzz-http1", "FuzzHTTP1", ["FuzzHTTPConnection"]),
        ("fuzz-http2", "FuzzHTTP2", ["FuzzHTTPConnection"]),
    ]
    package.targets += [
        .target(name: "FuzzSupport", path: "Sources/Fuzz/Support"),
        .target(name: "FuzzHTTPConnection", dependencies: ["HTTPServer", .product(name: "Logging", package: "swift-log")],
                path: "Sources/Fuzz/HTTPConnection"),
    ]
    for harness in harnesses {
        package.products.append(.executable(name: harness.product, targets: [harness.target]))
        package.targets.append(.executableTarget(
            name: harness.target, dependencies: ["FuzzSupport"] + harness.dependencies,
            path: "Sources/Fuzz/" + harness.target.dropFirst("Fuzz".count), linkerSettings: exportsDriver))
    }
}

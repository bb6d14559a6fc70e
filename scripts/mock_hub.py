#!/usr/bin/env python3
"""A mock Hugging Face Hub on 127.0.0.1, for scripts/check-hub-interop.sh (standard library only).

Each --repo owner/name=DIR serves the files under DIR (symlinks followed) as one commit of that
repository, on the branch main, speaking the part of the Hub protocol that huggingface_hub and
Sparrow's HubClient use:

  GET  /api/models/{repo}/revision/{rev}      {"id", "sha", "siblings": [{"rfilename"}]}
  HEAD /{repo}/resolve/{rev}/{path}           small files: 200 with ETag (git blob id), X-Repo-Commit
  GET  /{repo}/resolve/{rev}/{path}           large files: 302 to /lfs/{sha256} with X-Linked-Etag,
                                              X-Linked-Size, X-Repo-Commit
  GET  /lfs/{sha256}                          the bytes, with Range (--throttle-ms slows them)

Every request is appended to --log (one line: METHOD PATH RANGE), so a caller can tell whether a
run made any request. The chosen port is written to --port-file.
"""
import argparse
import hashlib
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

LFS_THRESHOLD = 10 * 1024


def file_digests(path):
    sha256, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            sha256.update(chunk)
            size += len(chunk)
    git = hashlib.sha1(b"blob %d\0" % size)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            git.update(chunk)
    return sha256.hexdigest(), git.hexdigest(), size


def load_repo(name, folder, commit=None):
    files = {}
    for root, _, names in os.walk(folder, followlinks=True):
        for n in names:
            full = os.path.join(root, n)
            rel = os.path.relpath(full, folder).replace(os.sep, "/")
            sha256, git, size = file_digests(full)
            files[rel] = {"path": full, "sha256": sha256, "git": git, "size": size, "lfs": size > LFS_THRESHOLD}
    commit = commit or hashlib.sha1(("mock commit of " + name).encode()).hexdigest()
    return {"commit": commit, "files": files}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    repos = {}
    by_sha = {}
    log_path = None
    throttle = 0.0
    log_lock = threading.Lock()

    def log_message(self, *args):  # quiet
        pass

    def record(self):
        if self.log_path:
            with self.log_lock, open(self.log_path, "a") as log:
                log.write(f"{self.command} {self.path} {self.headers.get('Range', '-')}\n")

    def reply(self, status, headers=(), body=b""):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        if not any(k.lower() == "content-length" for k, _ in headers):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def do_HEAD(self):
        self.handle_request()

    def do_GET(self):
        self.handle_request()

    def handle_request(self):
        self.record()
        path = self.path.split("?", 1)[0]
        parts = [unquote(p) for p in path.split("/")[1:]]
        if len(parts) == 6 and parts[:2] == ["api", "models"] and parts[4] == "revision":
            return self.api(parts[2] + "/" + parts[3], parts[5])
        if len(parts) >= 5 and parts[2] == "resolve":
            return self.resolve(parts[0] + "/" + parts[1], parts[3], "/".join(parts[4:]))
        if len(parts) == 2 and parts[0] == "lfs" and parts[1] in self.by_sha:
            return self.send_file(self.by_sha[parts[1]])
        self.reply(404)

    def lookup(self, name, revision):
        repo = self.repos.get(name)
        if repo is None:
            self.reply(404, [("X-Error-Code", "RepoNotFound")])
            return None
        if revision not in ("main", repo["commit"]):
            self.reply(404, [("X-Error-Code", "RevisionNotFound")])
            return None
        return repo

    def api(self, name, revision):
        repo = self.lookup(name, revision)
        if repo is None:
            return
        body = json.dumps({"id": name, "sha": repo["commit"],
                           "siblings": [{"rfilename": f} for f in sorted(repo["files"])]}).encode()
        self.reply(200, [("Content-Type", "application/json")], body)

    def resolve(self, name, revision, path):
        repo = self.lookup(name, revision)
        if repo is None:
            return
        f = repo["files"].get(path)
        if f is None:
            return self.reply(404, [("X-Error-Code", "EntryNotFound"), ("X-Repo-Commit", repo["commit"])])
        if f["lfs"]:
            host = self.headers.get("Host", "127.0.0.1")
            return self.reply(302, [
                ("X-Repo-Commit", repo["commit"]), ("X-Linked-Etag", '"%s"' % f["sha256"]),
                ("X-Linked-Size", str(f["size"])), ("ETag", '"%s"' % f["git"]),
                ("Location", "http://%s/lfs/%s" % (host, f["sha256"])), ("Content-Length", "0")])
        headers = [("X-Repo-Commit", repo["commit"]), ("ETag", '"%s"' % f["git"])]
        self.send_file(f, headers)

    def send_file(self, f, headers=()):
        start, size = 0, f["size"]
        rng = self.headers.get("Range")
        headers = list(headers)
        if rng and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
            if start >= size:
                return self.reply(416, [("Content-Range", "bytes */%d" % size)])
            headers.append(("Content-Range", "bytes %d-%d/%d" % (start, size - 1, size)))
        self.send_response(206 if start else 200)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(size - start))
        self.end_headers()
        if self.command == "HEAD":
            return
        with open(f["path"], "rb") as src:
            src.seek(start)
            while chunk := src.read(1 << 20):
                self.wfile.write(chunk)
                time.sleep(self.throttle)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", action="append", default=[],
                        help="owner/name=DIR, or owner/name@COMMIT=DIR to serve DIR as that commit")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file")
    parser.add_argument("--log")
    parser.add_argument("--throttle-ms", type=float, default=0, help="pause after each MiB sent")
    args = parser.parse_args()
    for spec in args.repo:
        name, folder = spec.split("=", 1)
        name, _, commit = name.partition("@")
        Handler.repos[name] = load_repo(name, folder, commit or None)
        for f in Handler.repos[name]["files"].values():
            Handler.by_sha[f["sha256"]] = f
    Handler.log_path = args.log
    Handler.throttle = args.throttle_ms / 1000
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as out:
            out.write(str(server.server_address[1]))
        os.replace(args.port_file + ".tmp", args.port_file)
    print("mock hub on http://127.0.0.1:%d" % server.server_address[1], file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

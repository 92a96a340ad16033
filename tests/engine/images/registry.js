#!/usr/bin/env node
// A pull-only Docker registry (the Registry HTTP API V2, as much as `docker pull` uses) for the
// engine tier: the nodes' dockerd reach it as their --registry-mirror, so `docker pull NAME:TAG`
// and `docker pull NAME@sha256:…` work as they would against Docker Hub. Serves what
// tests/engine/images.ts built: DIR/blobs/sha256/<hex> (layers, configs, manifests) and
// DIR/tags/<repository>/<tag> (a manifest digest).
//   node registry.js DIR ADDRESS PORT
"use strict";
const fs = require("fs");
const http = require("http");
const path = require("path");

const [dir, address, port] = process.argv.slice(2);
const MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json";

function error(res, status, code, message) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify({ errors: [{ code, message }] }));
}

function blobPath(digest) {
  const m = /^sha256:([0-9a-f]{64})$/.exec(digest);
  return m ? path.join(dir, "blobs", "sha256", m[1]) : undefined;
}

function serve(req, res, file, type, digest) {
  const size = fs.statSync(file).size;
  res.writeHead(200, { "content-type": type, "content-length": size, "docker-content-digest": digest });
  if (req.method === "HEAD") return res.end();
  fs.createReadStream(file).pipe(res);
}

http
  .createServer((req, res) => {
    console.log(`${new Date().toISOString()} ${req.method} ${req.url}`);
    res.setHeader("docker-distribution-api-version", "registry/2.0");
    if (req.method !== "GET" && req.method !== "HEAD") return error(res, 405, "UNSUPPORTED", "pull only");
    const url = req.url.split("?")[0];
    if (url === "/v2/" || url === "/v2") {
      res.writeHead(200, { "content-type": "application/json" });
      return res.end("{}");
    }
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(url);
    if (!m) return error(res, 404, "NAME_UNKNOWN", url);
    // Docker Hub's official images are asked for as library/<name>.
    const repo = m[1];
    let digest = m[3];
    if (m[2] === "manifests" && !digest.startsWith("sha256:")) {
      const tagFile = path.join(dir, "tags", repo, digest);
      if (!fs.existsSync(tagFile)) return error(res, 404, "MANIFEST_UNKNOWN", `${repo}:${digest}`);
      digest = fs.readFileSync(tagFile, "utf8").trim();
    }
    const file = blobPath(digest);
    if (!file || !fs.existsSync(file)) return error(res, 404, m[2] === "manifests" ? "MANIFEST_UNKNOWN" : "BLOB_UNKNOWN", digest);
    return serve(req, res, file, m[2] === "manifests" ? MANIFEST_TYPE : "application/octet-stream", digest);
  })
  .listen(Number(port), address, () => console.log(`registry on ${address}:${port} serving ${dir}`));

// Floor experiment below `bare-grpc-ads.ts`: no gRPC library at all. Node's own HTTP/2 server speaks just enough
// of gRPC for SotW ADS (a 5-byte length prefix per message, a 200 with content-type application/grpc, no trailers:
// the streams never end) and answers fixed pre-encoded CDS/EDS bytes with healthmesh's encoder; requests are decoded
// with healthmesh's decoder. What Node's HTTP/2 alone costs per stream and change, whatever gRPC server sits on it.
// Run `npx tsx bench/bare-http2-ads.ts [port] [httpPort]`, then point ../shared/peer-bench's adsload at it as for
// bare-grpc-ads.ts (`-trigger http://127.0.0.1:<httpPort>/drain,http://127.0.0.1:<httpPort>/undrain`). Loopback only.
// An experiment, not a server: no flow-control handling beyond Node's, no errors, no Delta.
import { createServer } from 'node:http';
import { constants, createServer as createHttp2Server, type ServerHttp2Stream } from 'node:http2';
import { decodeSotwRequest, encodeSotwResponse, isMalformed, type SotwRequest } from '../src/xds/wire.js';
import { TYPE } from '../src/xds/protos.js';
import { fixedAds } from './lib/fixed-ads.js';

let n = 0;
const edsStreams = new Set<ServerHttp2Stream>();

/** One gRPC message: compressed flag 0, big-endian length, the bytes. */
function frame(msg: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + msg.length);
  out[0] = 0;
  out.writeUInt32BE(msg.length, 1);
  msg.copy(out, 5);
  return out;
}

function send(stream: ServerHttp2Stream, typeUrl: string, res: readonly Uint8Array[]): void {
  stream.write(frame(encodeSotwResponse({ version_info: String(fixedAds.version), type_url: typeUrl, nonce: String(++n), resources: res })));
}

const ADS_PATH = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';
const server = createHttp2Server({ settings: { maxConcurrentStreams: 100000 } });
server.on('stream', (stream, headers) => {
  if (headers[constants.HTTP2_HEADER_PATH] !== ADS_PATH) {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12' }, { endStream: true });
    return;
  }
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
  let pending: Buffer = Buffer.alloc(0);
  stream.on('data', (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= 5) {
      const len = pending.readUInt32BE(1);
      if (pending.length < 5 + len) break;
      const req = decodeSotwRequest(pending.subarray(5, 5 + len));
      pending = pending.subarray(5 + len);
      if (isMalformed(req)) continue;
      const r = req as SotwRequest;
      if (r.response_nonce) continue; // an ACK
      if (r.type_url === TYPE.endpoint) edsStreams.add(stream);
      send(stream, r.type_url ?? '', r.type_url === TYPE.cluster ? fixedAds.cds : fixedAds.eds);
    }
  });
  const drop = () => edsStreams.delete(stream);
  stream.on('close', drop);
  stream.on('error', drop);
});
const port = Number(process.argv[2] ?? 28630);
server.listen(port, '127.0.0.1', () => console.log('bare HTTP/2 ADS on', port));
const httpPort = Number(process.argv[3] ?? 0);
if (httpPort) {
  createServer((req, res) => {
    fixedAds.toggle(req.url);
    for (const s of edsStreams) send(s, TYPE.endpoint, fixedAds.eds);
    res.end('ok');
  }).listen(httpPort, '127.0.0.1', () => console.log('toggle on', httpPort));
}

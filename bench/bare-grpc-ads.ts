// Floor experiment for the peer table: grpc-js alone with healthmesh's ADS serializers answering fixed CDS/EDS bytes
// (no state machine, ledger, auth or logs). Run `npx tsx bench/bare-grpc-ads.ts [port] [httpPort]`, then point
// ../shared/peer-bench's adsload at it: with -trials 0 to read its initial-sync CPU, or with
// `-trigger http://127.0.0.1:<httpPort>/drain,http://127.0.0.1:<httpPort>/undrain` for the fastest change → all
// streams a grpc-js server can give (every SotW stream is written the other pre-encoded EDS, nothing else). Loopback only.
import { createServer } from 'node:http';
import { Server, ServerCredentials, type ServerDuplexStream } from '@grpc/grpc-js';
import { adsService, type SotwRequest } from '../src/xds/wire.js';
import { TYPE } from '../src/xds/protos.js';
import { fixedAds } from './lib/fixed-ads.js';

let n = 0;
const streams = new Set<ServerDuplexStream<SotwRequest, unknown>>();
const server = new Server({ 'grpc.max_concurrent_streams': 100000, 'grpc.enable_channelz': 0 }); // as healthmesh's server
server.addService(adsService, {
  StreamAggregatedResources: (call: ServerDuplexStream<SotwRequest, unknown>) => {
    call.on('data', (req: SotwRequest) => {
      if (req.response_nonce) return;
      if (req.type_url === TYPE.endpoint) streams.add(call);
      const res = req.type_url === TYPE.cluster ? fixedAds.cds : fixedAds.eds;
      call.write({ version_info: String(fixedAds.version), type_url: req.type_url, nonce: String(++n), resources: res });
    });
    const drop = () => streams.delete(call);
    call.on('error', drop);
    call.on('close', drop);
  },
  DeltaAggregatedResources: (call: ServerDuplexStream<SotwRequest, unknown>) => call.end(),
});
const port = Number(process.argv[2] ?? 28620);
server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), () => console.log('bare ADS on', port));
const httpPort = Number(process.argv[3] ?? 0);
if (httpPort) {
  createServer((req, res) => {
    fixedAds.toggle(req.url);
    for (const call of streams) call.write({ version_info: String(fixedAds.version), type_url: TYPE.endpoint, nonce: String(++n), resources: fixedAds.eds });
    res.end('ok');
  }).listen(httpPort, '127.0.0.1', () => console.log('toggle on', httpPort));
}

// Floor experiment for the peer table: grpc-js alone with healthmesh's ADS serializers answering fixed CDS/EDS bytes
// (no state machine, ledger, auth or logs). Run `npx tsx bench/bare-grpc-ads.ts [port]`, then point
// ../shared/peer-bench's adsload at it with -trials 0 to read its initial-sync CPU. Loopback only.
import { Server, ServerCredentials, type ServerDuplexStream } from '@grpc/grpc-js';
import { createControlPlane } from '../src/controlplane.js';
import { validateConfig } from '../src/config/load.js';
import { adsService, type SotwRequest } from '../src/xds/wire.js';
import { TYPE } from '../src/xds/protos.js';
const config = validateConfig({ clusters: [{ name: 'bench', endpoints: Array.from({ length: 10 }, (_, i) => ({ address: '127.0.0.1', port: 20000 + i })) }] });
const cp = createControlPlane(config);
const snap = cp.topology.publishNow()!;
const cds = [...snap.types[TYPE.cluster].resources.values()].map((e) => e.any);
const eds = [...snap.types[TYPE.endpoint].resources.values()].map((e) => e.any);
let n = 0;
const server = new Server({ 'grpc.max_concurrent_streams': 100000 });
server.addService(adsService, {
  StreamAggregatedResources: (call: ServerDuplexStream<SotwRequest, unknown>) => {
    call.on('data', (req: SotwRequest) => {
      if (req.response_nonce) return;
      const res = req.type_url === TYPE.cluster ? cds : eds;
      call.write({ version_info: '1', type_url: req.type_url, nonce: String(++n), resources: res });
    });
    call.on('error', () => {});
  },
  DeltaAggregatedResources: (call: ServerDuplexStream<SotwRequest, unknown>) => call.end(),
});
const port = Number(process.argv[2] ?? 28620);
server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), () => console.log('bare ADS on', port));

// The set-up the connector integration tests share: a provider (a local fake, or a real peer
// such as the SMPP centre) that the test has started, a webhook Receiver, the real herald with
// fastConfig({ routes, connectors }) sending to that provider, the provider's webhooks pointed
// at Herald, and one application whose status and inbound webhooks go to the receiver.
//
//   let fake; let harness; let herald; let rx; let auth; let accept;
//   before(async () => {
//     fake = await FakeViber.start({ token: TOKEN });
//     harness = await startConnectorHarness({
//       fake, routes: { viber_service: ['vb'] }, connectors: { vb: { type: 'viber', ... } },
//       appName: 'vb', webhookPath: '/providers/vb/webhook',
//     });
//     ({ herald, rx, auth, accept } = harness);
//   });
//   after(() => harness?.close());
//
// Options:
//  - fake: the provider, already started (its address goes into `connectors`); anything with
//    `close()` and, when `webhookPath` is given, a `webhookUrl` to set
//  - routes, connectors: as fastConfig takes them; `connectors` may be a function of the Herald
//    (constructed, not started), for files that must sit in its data dir
//  - config: a whole config instead of fastConfig({ routes, connectors })
//  - appName: the application's name (`herald app create --name`)
//  - webhookPath: where the provider posts its callbacks (`fake.webhookUrl` = herald.base + it)
//  - start: options for Herald#start, or a function of the Herald that returns them
//
// Returns { herald, rx, app, auth, accept, close }: `auth` is the app's Basic authorization,
// `accept(body)` posts a message and asserts Herald accepted it (a workflow_id too when the body
// has a failover list), and `close()` stops Herald gracefully (asserting exit 0), then closes
// the receiver and the fake. From the call on the harness owns the fake: a set-up that fails
// closes what it started, and the fake, before it throws.
import { Herald, basic, assertAccepted } from './herald.mjs';
import { Receiver } from './receiver.mjs';
import { fastConfig } from './delivery.mjs';

export async function startConnectorHarness({ fake, routes, connectors, config, appName = 'app', webhookPath, start = {} } = {}) {
  const harness = { fake, herald: null, rx: null, app: null, auth: null };
  harness.close = async () => {
    try {
      await harness.herald?.close({ graceful: true });
    } finally {
      try {
        await harness.rx?.close();
      } finally {
        await harness.fake?.close();
      }
    }
  };
  harness.accept = async (body) => assertAccepted(await harness.herald.post(harness.auth, body), { workflow: Array.isArray(body.failover) });
  try {
    const rx = await Receiver.start();
    harness.rx = rx;
    const herald = new Herald();
    harness.herald = herald;
    const conns = typeof connectors === 'function' ? connectors(herald) : connectors;
    herald.writeConfig(config ?? fastConfig({ routes, connectors: conns }));
    await herald.start(typeof start === 'function' ? start(herald) : start);
    if (webhookPath !== undefined) fake.webhookUrl = `${herald.base}${webhookPath}`;
    harness.app = await herald.createApp(appName, { statusUrl: rx.url('/status'), inboundUrl: rx.url('/inbound') });
    rx.addSecret(harness.app);
    harness.auth = basic(harness.app);
  } catch (e) {
    await harness.close().catch(() => {});
    throw e;
  }
  return harness;
}

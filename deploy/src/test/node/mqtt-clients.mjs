// MQTT.js as devices use it, against axfleet: node mqtt-clients.mjs mqtt://127.0.0.1:PORT MODEL
//  - MQTT 3.1.1 at QoS 0 with the reply topic and id in the JSON (what an ESP32 with PubSubClient can do);
//  - MQTT 5 with the Response Topic and Correlation Data properties and nothing but params in the JSON.
// Prints one JSON object with both results; FleetSuite checks it.
import mqtt from 'mqtt';

const [url, model] = process.argv.slice(2);
const jobs = `axfleet/v1/jobs/${model}`;

function once(client, topic, timeoutMs = 60000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no reply on ${topic}`)), timeoutMs);
    client.on('message', (t, payload, packet) => {
      if (t === topic) {
        clearTimeout(timer);
        resolve({ result: JSON.parse(payload.toString()), correlation: packet.properties?.correlationData?.toString() });
      }
    });
  });
}

const v3 = await mqtt.connectAsync(url, { protocolVersion: 4, clientId: `mqttjs-v3-${process.pid}` });
const v3reply = `devices/mqttjs-${process.pid}/answer`;
await v3.subscribeAsync(v3reply, { qos: 1 });
const v3answer = once(v3, v3reply);
await v3.publishAsync(jobs, JSON.stringify({ id: `v3-${process.pid}`, reply_to: v3reply, params: { prompt: 'One line about the moon', max_tokens: 40 } }), { qos: 0 });

const v5 = await mqtt.connectAsync(url, { protocolVersion: 5, clientId: `mqttjs-v5-${process.pid}` });
const v5reply = `axfleet/v1/reply/mqttjs/${process.pid}`;
await v5.subscribeAsync(v5reply, { qos: 1 });
const v5answer = once(v5, v5reply);
await v5.publishAsync(jobs, JSON.stringify({ params: { prompt: 'One line about the wind' } }), {
  qos: 1,
  properties: { responseTopic: v5reply, correlationData: Buffer.from(`corr-${process.pid}`) },
});

const out = { v3: await v3answer, v5: await v5answer, pid: process.pid };
await v3.endAsync();
await v5.endAsync();
console.log(JSON.stringify(out));

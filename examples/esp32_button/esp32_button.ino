// axfleet: press a button, get one line from the model on the card, LED lit while waiting.
// ESP32 + PubSubClient (knolleary) + ArduinoJson. MQTT 3.1.1, QoS 0 publish (all PubSubClient can do):
// the job and its reply topic travel in the JSON. Not compiled in axfleet's CI (no Arduino toolchain);
// the same job, sent by MQTT.js over 3.1.1 at QoS 0, is (deploy/src/test/node/mqtt-clients.mjs).
#include <WiFi.h>
#include <PubSubClient.h>
#include <ArduinoJson.h>

const char* WIFI_SSID = "installation";
const char* WIFI_PASSWORD = "secret";
const char* BROKER = "192.168.4.1";        // the Pi running Mosquitto
const char* MQTT_USER = "device";          // deploy/mosquitto/axfleet.acl
const char* MQTT_PASSWORD = "device-password";
const char* MODEL = "qwen3-1.7b";
const int BUTTON_PIN = 0;                   // BOOT button on most ESP32 boards
const int LED_PIN = 2;
const unsigned long ANSWER_TIMEOUT_MS = 60000;

WiFiClient net;
PubSubClient mqtt(net);
char clientId[32];
char replyTopic[64];
unsigned long waitingSince = 0;
unsigned int asked = 0;

void onMessage(char* topic, byte* payload, unsigned int length) {
  JsonDocument result;
  if (deserializeJson(result, payload, length)) {
    Serial.println("unreadable reply");
  } else if (strcmp(result["outcome"] | "", "done") == 0) {
    Serial.println(result["text"].as<const char*>());
  } else {
    Serial.print("no answer: ");
    Serial.println(result["error"]["message"].as<const char*>());
  }
  waitingSince = 0;
  digitalWrite(LED_PIN, LOW);
}

void connect() {
  while (!mqtt.connected()) {
    if (mqtt.connect(clientId, MQTT_USER, MQTT_PASSWORD)) {
      mqtt.subscribe(replyTopic, 1);
    } else {
      delay(2000);
    }
  }
}

void setup() {
  Serial.begin(115200);
  pinMode(BUTTON_PIN, INPUT_PULLUP);
  pinMode(LED_PIN, OUTPUT);
  WiFi.begin(WIFI_SSID, WIFI_PASSWORD);
  while (WiFi.status() != WL_CONNECTED) {
    delay(250);
  }
  snprintf(clientId, sizeof clientId, "esp32-%06llx", ESP.getEfuseMac() & 0xffffff);
  // Reply topics under devices/ are what the shipped ACL lets workers write and devices read.
  snprintf(replyTopic, sizeof replyTopic, "devices/%s/answer", clientId);
  mqtt.setServer(BROKER, 1883);
  mqtt.setCallback(onMessage);
  mqtt.setBufferSize(1024);                 // results carry the whole answer; 256 bytes is too small
  connect();
}

void loop() {
  connect();
  mqtt.loop();
  if (waitingSince == 0 && digitalRead(BUTTON_PIN) == LOW) {
    char job[256];
    snprintf(job, sizeof job,
             "{\"id\":\"%s-%u\",\"reply_to\":\"%s\",\"params\":{\"prompt\":\"One line about the night sky.\",\"max_tokens\":40}}",
             clientId, ++asked, replyTopic);
    char topic[64];
    snprintf(topic, sizeof topic, "axfleet/v1/jobs/%s", MODEL);
    mqtt.publish(topic, job);
    waitingSince = millis();
    digitalWrite(LED_PIN, HIGH);
  }
  if (waitingSince != 0 && millis() - waitingSince > ANSWER_TIMEOUT_MS) {
    Serial.println("no answer in time");
    waitingSince = 0;
    digitalWrite(LED_PIN, LOW);
  }
}

package dev.axfleet.broker;

import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5ClientBuilder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/** The one way axfleet processes build their MQTT 5 connections. */
public final class MqttClients {
    private MqttClients() {
    }

    /**
     * A client builder for {@code address} that reconnects by itself (100 ms growing to 5 s) whenever
     * the broker goes away; callers add their session and subscription settings.
     */
    public static Mqtt5ClientBuilder builder(BrokerAddress address, String clientId) {
        Mqtt5ClientBuilder b = MqttClient.builder()
                .useMqttVersion5()
                .identifier(clientId)
                .serverHost(address.host())
                .serverPort(address.port())
                .automaticReconnect()
                .initialDelay(100, TimeUnit.MILLISECONDS)
                .maxDelay(5, TimeUnit.SECONDS)
                .applyAutomaticReconnect();
        if (address.username() != null) {
            var auth = b.simpleAuth().username(address.username());
            if (address.password() != null) {
                auth = auth.password(address.password().getBytes(StandardCharsets.UTF_8));
            }
            b = auth.applySimpleAuth();
        }
        return b;
    }
}

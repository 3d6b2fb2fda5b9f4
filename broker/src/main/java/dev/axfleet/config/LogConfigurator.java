package dev.axfleet.config;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.core.joran.spi.JoranException;
import ch.qos.logback.core.spi.ContextAwareBase;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;

/**
 * Logging for every axfleet process: one line per event on stderr (journald keeps it on the Pi), level
 * from {@code AXFLEET_LOG_LEVEL} (default INFO), chatty libraries held at WARN. Registered as a logback
 * service so the logback.xml inside the HiveMQ jar is never read; the embedded broker writes
 * {@link #XML} into its own conf folder because HiveMQ re-initialises logging from there.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_HIGH_PRIORITY)
public final class LogConfigurator extends ContextAwareBase implements Configurator {
    public static final String XML = """
            <configuration>
              <appender name="err" class="ch.qos.logback.core.ConsoleAppender">
                <target>System.err</target>
                <encoder><pattern>%d{HH:mm:ss.SSS} %-5level %-20logger{0} %msg%n</pattern></encoder>
              </appender>
              <logger name="com.hivemq" level="WARN"/>
              <logger name="migrations" level="WARN"/>
              <logger name="org.eclipse.jetty" level="WARN"/>
              <logger name="spark" level="WARN"/>
              <logger name="jetbrains.exodus" level="WARN"/>
              <logger name="oshi" level="ERROR"/>
              <root level="${AXFLEET_LOG_LEVEL:-INFO}"><appender-ref ref="err"/></root>
            </configuration>
            """;

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        JoranConfigurator joran = new JoranConfigurator();
        joran.setContext(context);
        try {
            joran.doConfigure(new ByteArrayInputStream(XML.getBytes(StandardCharsets.UTF_8)));
        } catch (JoranException e) {
            addError("axfleet logging configuration failed", e);
        }
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }
}

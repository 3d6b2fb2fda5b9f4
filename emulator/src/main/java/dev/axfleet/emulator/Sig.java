package dev.axfleet.emulator;

import java.lang.reflect.Proxy;

/**
 * POSIX signal handlers for the emulated runtimes, so they can answer SIGINT and SIGTERM as the real ones do rather
 * than as the JVM does (its default runs shutdown hooks and exits on both). Through {@code sun.misc.Signal} (module
 * jdk.unsupported), by reflection so the build stays free of its "internal proprietary API" warnings.
 */
final class Sig {
    private Sig() {
    }

    /** Runs {@code handler} on its own thread when signal {@code name} ({@code INT}, {@code TERM}) arrives. */
    static void handle(String name, Runnable handler) {
        try {
            Class<?> signal = Class.forName("sun.misc.Signal");
            Class<?> handlerType = Class.forName("sun.misc.SignalHandler");
            Object proxy = Proxy.newProxyInstance(Sig.class.getClassLoader(), new Class<?>[] {handlerType}, (p, m, args) -> {
                if (m.getName().equals("handle")) {
                    Thread t = new Thread(handler, "SIG" + name);
                    t.setDaemon(false);
                    t.start();
                    return null;
                }
                return m.getDeclaringClass() == Object.class ? m.invoke(handler, args) : null;
            });
            signal.getMethod("handle", signal, handlerType).invoke(null, signal.getConstructor(String.class).newInstance(name), proxy);
        } catch (ReflectiveOperationException | RuntimeException e) {
            System.err.println("[W] emulator: cannot handle SIG" + name + " (" + e + "); the JVM's default applies");
        }
    }
}

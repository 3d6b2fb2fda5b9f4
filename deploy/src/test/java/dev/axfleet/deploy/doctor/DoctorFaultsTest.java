package dev.axfleet.deploy.doctor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.axfleet.broker.testing.TestTools;
import dev.axfleet.emulator.TestFault;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Each check can fail: with the emulator made to behave as its item's wrong reading would (a test-only {@link TestFault}),
 * {@code axfleet doctor --emulated --only ITEM} reports that item as "differs" and exits 1.
 */
class DoctorFaultsTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(TestFault.class)
    void theCheckSaysDiffersWhenTheEmulatorShowsTheWrongReading(TestFault fault) throws Exception {
        TestTools.require("cc", "apt-get install gcc", Files.isExecutable(Path.of("/usr/bin/cc")));
        Doctors.Run run = Doctors.doctor(dir, Doctors.settings(dir), "--emulated", "--disruptive", "--only", fault.item(),
                "--emulator-fault", fault.name());
        assertEquals("differs", run.verdict(fault.item()), run.explain(fault.item()));
        assertEquals(1, run.exit());
    }

    /** Every check has a fault that makes it differ, but U9, whose wrong reading DoctorFleetTest shows with a real fleet. */
    @Test
    void everyCheckHasAFaultOfItsOwn() {
        Set<String> checks = Checks.all().stream().map(Check::id).collect(Collectors.toCollection(TreeSet::new));
        Set<String> faulted = Arrays.stream(TestFault.values()).map(TestFault::item).collect(Collectors.toCollection(TreeSet::new));
        faulted.add("U9");
        assertEquals(checks, faulted, "a check without a test fault cannot be shown to fail: add one to TestFault");
    }
}

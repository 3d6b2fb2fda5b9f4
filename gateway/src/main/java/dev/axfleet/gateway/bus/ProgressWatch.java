package dev.axfleet.gateway.bus;

import dev.axfleet.broker.JobStatus;
import dev.axfleet.broker.Kind;
import dev.axfleet.broker.Topics;
import java.util.List;

/** Follows the steps of this gateway's image jobs on their status topics, for AUTOMATIC1111's /progress and /interrupt. */
final class ProgressWatch {
    private final BusConnection bus;
    private final Submissions submissions;

    ProgressWatch(BusConnection bus, Submissions submissions) {
        this.bus = bus;
        this.submissions = submissions;
    }

    static boolean followed(Submission s) {
        return s.task().kind() == Kind.IMAGE;
    }

    void follow(Submission s) {
        if (followed(s)) {
            bus.subscribe(Topics.status(s.model(), s.id()));
        }
    }

    void stop(Submission s) {
        if (followed(s)) {
            bus.unsubscribe(Topics.status(s.model(), s.id()));
        }
    }

    void status(String jobId, JobStatus status) {
        Submission s = submissions.get(jobId);
        if (s != null) {
            s.progress(status);
        }
    }

    List<Submission> followedJobs() {
        return submissions.all().stream().filter(ProgressWatch::followed).toList();
    }
}

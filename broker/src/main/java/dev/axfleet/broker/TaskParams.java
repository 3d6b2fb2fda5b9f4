package dev.axfleet.broker;

/** The task-specific part of a job. */
public sealed interface TaskParams permits ChatParams, ImageParams, InterrogateParams {
    Task task();
}

package dalle2.cli.cluster;

/** The long run: steady load with a decoder kill, a broker kill and a storage outage spread through it. */
public final class SoakRun {

    private final ScenarioRunner runner;

    public SoakRun(ScenarioRunner.Options options, ReferenceImages references) {
        this.runner = new ScenarioRunner(options, references);
    }

    public ScenarioResult run() {
        return runner.run("soak", null, Scenario.soakSteps());
    }
}

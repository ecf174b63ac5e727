//! `failoverd check-config`: the sample configuration is valid, and every kind of mistake
//! is reported at its file, line and column with what would be valid.

use failoverd::config::{parse, ProviderKind};

const SAMPLE: &str = include_str!("../failoverd.example.toml");

fn error(text: &str) -> String {
    parse(text, "f.toml")
        .expect_err("should be refused")
        .to_string()
}

fn with(old: &str, new: &str) -> String {
    assert!(SAMPLE.contains(old), "the sample has no {old:?}");
    SAMPLE.replacen(old, new, 1)
}

#[test]
fn the_sample_configuration_is_valid() {
    let c = parse(SAMPLE, "sample").expect("valid");
    assert_eq!(c.topology.redis_machines, ["redis1", "redis2"]);
    assert_eq!(c.topology.redis_port_list(), [9001, 9002]);
    assert_eq!(c.deployment.masters[&9001], "redis1");
    assert_eq!(c.deployment.layout.app_addr, "10.0.1.31");
    assert_eq!(c.controller.interval_ms, 1000);
    assert_eq!(c.cloud.provider, ProviderKind::Command);
    // Two redis machines × two ports, two proxies' runtime APIs and the app's.
    assert_eq!(c.endpoints().len(), 7);
}

#[test]
fn mistakes_are_reported_where_they_are_with_what_would_be_valid() {
    let cases = [
        (
            with("fail_count = 3", "fail_count = 0"),
            "f.toml:46:14: detection.fail_count: 0 is out of range: write 1 to 100",
        ),
        (
            with("interval = \"1s\"", "interval = \"1y\""),
            "f.toml:45:12: detection.interval:",
        ),
        (
            with("interval = \"1s\"", "interval = \"50ms\""),
            "detection.interval: 50ms is out of range: write a duration from 100ms to 1h",
        ),
        (
            with("poll_timeout = \"800ms\"", "poll_timeout = \"2s\""),
            "recovery: poll_timeout_ms (2000) must be below interval_ms (1000)",
        ),
        (
            with("retry_max = \"30s\"", "retry_max = \"500ms\""),
            "recovery.retry_max: 500ms is below retry_min (1s)",
        ),
        (
            with("check_rise = 2", "check_rise = 1000"),
            "recovery.check_rise: 1000 is out of range: write 1 to 100",
        ),
        (
            with("redis_ports = 2", "redis_ports = 40"),
            "f.toml:16:15: topology.redis_ports: 40 is out of range: write 1 to 32",
        ),
        (
            with("redis_ports = 2", "redis_ports = 70000"),
            "f.toml:16:15: topology.redis_ports:",
        ),
        (
            with("name = \"redis2\"", "name = \"redis1\""),
            "redis[1].name: \"redis1\" is listed twice",
        ),
        (
            with("name = \"haproxy1\"", "name = \"ha proxy\""),
            "haproxy[0].name: \"ha proxy\" is not a machine name",
        ),
        (
            with("addr = \"10.0.1.31\"", "addr = \"\""),
            "app.addr: \"\" is not an address",
        ),
        (
            with(
                "# runtime_api = \"10.0.1.22:9999\"",
                "runtime_api = \"10.0.1.22\"",
            ),
            "haproxy[1].runtime_api: \"10.0.1.22\" has no port",
        ),
        (
            with("listen = \"127.0.0.1:9180\"", "listen = \"127.0.0.1:0\""),
            "listen: \"0\" is not a port",
        ),
        (
            with("fail_count = 3", "fail_count = 3\nfail_counts = 3"),
            "f.toml:47:1: detection.fail_counts: unknown field `fail_counts`",
        ),
        (
            with("provider = \"command\"", "provider = \"gcp\""),
            "cloud.provider: unknown variant `gcp`, expected one of `command`, `local`, `ec2`",
        ),
        (
            with("provider = \"command\"", "provider = \"local\""),
            "cloud.provider: provider \"local\" needs a [cloud.local] table",
        ),
        (
            with("timeout = \"5m\"", "timeout = \"500ms\""),
            "cloud.command.timeout: 500ms is out of range: write a duration from 1s to 24h",
        ),
        (
            with("launch = [\"/usr/local/bin/my-cloud\"", "launch = [\"\""),
            "cloud.command.launch[0]: the program is empty",
        ),
        (
            with("shutdown_grace = \"10s\"", "shutdown_grace = \"1h\""),
            "shutdown_grace: 1h is out of range: write a duration from 0s to 10m",
        ),
        (with("[app]", "[app\n"), "f.toml:41:5:"),
    ];
    for (text, want) in cases.iter().filter(|(_, w)| !w.is_empty()) {
        let got = error(text);
        assert!(got.contains(want), "want {want:?} in\n{got}");
        assert!(got.starts_with("f.toml:"), "{got}");
    }
}

#[test]
fn a_plan_that_breaks_a_promise_is_refused() {
    let text = with(
        "check_rise = 2",
        "check_rise = 2\nfailed_redis = [\"unmonitor\", \"promote-survivor\", \"unregister-redis\", \"terminate\", \"launch\", \"wait-reachable\", \"make-replica\", \"register-redis\", \"monitor\"]",
    );
    let got = error(&text);
    assert!(
        got.contains("failed_redis: UnregisterRedis must come before PromoteSurvivor"),
        "{got}"
    );
}

#[test]
fn a_file_that_is_not_a_configuration_is_refused_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let got = failoverd::config::load(dir.path()).unwrap_err().to_string();
    assert!(got.contains("is a directory, not a regular file"), "{got}");
    let bin = dir.path().join("bin.toml");
    std::fs::write(&bin, b"state_file = \"\xff\"").unwrap();
    let got = failoverd::config::load(&bin).unwrap_err().to_string();
    assert!(got.contains(":1:15: byte 0xff is not UTF-8"), "{got}");
}

const EC2: &str = r#"[cloud]
provider = "ec2"

[cloud.ec2]
region = "eu-west-1"
endpoint_url = "http://127.0.0.1:5000"

[cloud.ec2.redis]
image_id = "ami-0123456789abcdef0"
instance_type = "r6g.large"
security_group_ids = ["sg-0123456789abcdef0", "sg-0123456789abcdef1"]

[cloud.ec2.haproxy]
image_id = "ami-0fedcba9876543210"
instance_type = "t3.small"

[cloud.ec2.route53]
hosted_zone_id = "Z0123456789ABCDEFGHIJ"
record_suffix = ".lb.example.internal"
"#;

/// The sample with its `[cloud]` tables replaced by `cloud`.
fn with_cloud(cloud: &str) -> String {
    let at = SAMPLE
        .find("[cloud]")
        .expect("the sample has a [cloud] table");
    let rest = &SAMPLE[at..];
    // The cloud tables run to the next table that is not `[cloud.…]`.
    let end = rest
        .match_indices("\n[")
        .find(|(i, _)| !rest[i + 1..].starts_with("[cloud"))
        .map_or(rest.len(), |(i, _)| i + 1);
    format!("{}{cloud}{}", &SAMPLE[..at], &rest[end..])
}

#[test]
fn an_ec2_configuration_is_checked_field_by_field_at_its_line() {
    let c = parse(&with_cloud(EC2), "ec2").expect("valid");
    assert_eq!(c.cloud.provider, ProviderKind::Ec2);
    let ec2 = c.cloud.ec2.as_ref().expect("the ec2 table");
    assert_eq!(ec2.redis.security_group_ids.len(), 2);

    let cases = [
        (
            EC2.replace("\"ami-0123456789abcdef0\"", "\"image-1\""),
            "cloud.ec2.redis.image_id:",
        ),
        (
            EC2.replace("\"sg-0123456789abcdef1\"", "\"sg-0123456789abcdef0\""),
            "cloud.ec2.redis.security_group_ids[1]: `sg-0123456789abcdef0` is listed twice",
        ),
        (
            EC2.replace("record_suffix", "suffix"),
            "cloud.ec2.route53.suffix: unknown field `suffix`",
        ),
        (
            EC2.replace("[cloud.ec2.haproxy]", "[cloud.ec2.haproxies]"),
            "unknown field `haproxies`",
        ),
    ];
    for (cloud, want) in &cases {
        let got = error(&with_cloud(cloud));
        assert!(got.contains(want), "want {want:?} in\n{got}");
        // Every one points at a line of the [cloud.ec2] tables.
        let line: usize = got.split(':').nth(1).unwrap().parse().unwrap();
        let cloud_line = with_cloud(cloud)
            .lines()
            .position(|l| l == "[cloud]")
            .unwrap()
            + 1;
        assert!(
            line > cloud_line,
            "{got} (the cloud tables start at {cloud_line})"
        );
    }
}

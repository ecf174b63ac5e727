//! The EC2 provider against moto's server on 127.0.0.1 (never AWS), each test with a moto
//! of its own. The capacity and throttling paths go through `support::fault_front`.
//! `FAILOVER_SKIP_MOTO=1` skips them, saying so; without moto_server they fail with how
//! to install it.

mod support;

use std::net::Ipv4Addr;
use std::time::Duration;

use aws_sdk_ec2::types::Filter;
use failover::effects::{Cloud, InstanceState};
use failover::error::{CloudError, StepError};
use failover::layout::MachineRole;
use failover_ec2::Ec2Cloud;
use support::fault_front::{FaultFront, CAPACITY, THROTTLED_TERMINATE};
use support::moto::{Moto, SECRET};

macro_rules! moto_or_skip {
    ($name:literal) => {
        match Moto::start($name) {
            Some(moto) => moto,
            None => return,
        }
    };
}

async fn instances_tagged(
    endpoint: &str,
    key: &str,
    value: &str,
) -> Vec<aws_sdk_ec2::types::Instance> {
    let out = support::ec2(endpoint)
        .await
        .describe_instances()
        .filters(
            Filter::builder()
                .name(format!("tag:{key}"))
                .values(value)
                .build(),
        )
        .send()
        .await
        .unwrap();
    out.reservations()
        .iter()
        .flat_map(|r| r.instances().to_vec())
        .collect()
}

#[tokio::test]
async fn launch_runs_the_roles_image_tagged_with_role_and_plan() {
    let moto = moto_or_skip!("launch_runs_the_roles_image_tagged_with_role_and_plan");
    let network = support::network(&moto.endpoint).await;
    let cloud = Ec2Cloud::new(&support::config(&moto.endpoint, Some(&network)))
        .await
        .unwrap();

    let info = cloud.launch(MachineRole::Redis, "77-plan-1").await.unwrap();

    let id = info.instance_id.clone().unwrap();
    assert_eq!(info.role, MachineRole::Redis);
    assert_eq!(info.name, format!("redis-{id}"));
    let addr: Ipv4Addr = info.addr.parse().unwrap();
    assert_eq!(
        addr.octets()[..3],
        [10, 20, 1],
        "the private IP, in the subnet: {addr}"
    );

    let found = instances_tagged(&moto.endpoint, "failover:plan", "77-plan-1").await;
    assert_eq!(found.len(), 1);
    let instance = &found[0];
    assert_eq!(instance.instance_id(), Some(id.as_str()));
    assert_eq!(instance.image_id(), Some(support::AMI));
    assert_eq!(
        instance.instance_type().map(|t| t.as_str()),
        Some("r5.large")
    );
    assert_eq!(instance.subnet_id(), Some(network.subnet_id.as_str()));
    assert_eq!(instance.private_ip_address(), Some(info.addr.as_str()));
    let groups: Vec<_> = instance
        .security_groups()
        .iter()
        .filter_map(|g| g.group_id())
        .collect();
    assert_eq!(groups, [network.group_id.as_str()]);
    let mut tags: Vec<(&str, &str)> = instance
        .tags()
        .iter()
        .map(|t| (t.key().unwrap(), t.value().unwrap()))
        .collect();
    tags.sort();
    assert_eq!(
        tags,
        [
            ("failover:plan", "77-plan-1"),
            ("failover:role", "redis"),
            ("team", "cache")
        ]
    );

    // The haproxy role launches its own image and type.
    let proxy = cloud
        .launch(MachineRole::Haproxy, "77-plan-2")
        .await
        .unwrap();
    assert!(proxy.name.starts_with("haproxy-i-"), "{}", proxy.name);
    let found = instances_tagged(&moto.endpoint, "failover:plan", "77-plan-2").await;
    assert_eq!(
        found[0].instance_type().map(|t| t.as_str()),
        Some("t3.micro")
    );
}

#[tokio::test]
async fn relaunch_with_the_same_token_returns_the_same_instance() {
    let moto = moto_or_skip!("relaunch_with_the_same_token_returns_the_same_instance");
    let cloud = Ec2Cloud::new(&support::config(&moto.endpoint, None))
        .await
        .unwrap();

    let first = cloud.launch(MachineRole::Redis, "5-plan-3").await.unwrap();
    let again = cloud.launch(MachineRole::Redis, "5-plan-3").await.unwrap();
    assert_eq!(first, again);
    // A provider built afresh (a restarted failoverd) finds it too.
    let restarted = Ec2Cloud::new(&support::config(&moto.endpoint, None))
        .await
        .unwrap();
    assert_eq!(
        restarted
            .launch(MachineRole::Redis, "5-plan-3")
            .await
            .unwrap(),
        first
    );
    assert_eq!(
        instances_tagged(&moto.endpoint, "failover:plan", "5-plan-3")
            .await
            .len(),
        1
    );

    // Another token is another launch.
    let other = cloud.launch(MachineRole::Redis, "5-plan-4").await.unwrap();
    assert_ne!(other.instance_id, first.instance_id);
    assert_ne!(other.name, first.name);

    // The same token for another role is a mistake, not a second instance.
    let err = cloud
        .launch(MachineRole::Haproxy, "5-plan-3")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, CloudError::Other(m) if m.contains("IdempotentParameterMismatch")),
        "{err}"
    );
    assert_eq!(
        instances_tagged(&moto.endpoint, "failover:role", "redis")
            .await
            .len(),
        2
    );
    assert_eq!(
        instances_tagged(&moto.endpoint, "failover:role", "haproxy")
            .await
            .len(),
        0
    );
}

#[tokio::test]
async fn describe_reports_the_instance_running_and_unknown_ids_not_found() {
    let moto = moto_or_skip!("describe_reports_the_instance_running_and_unknown_ids_not_found");
    let cloud = Ec2Cloud::new(&support::config(&moto.endpoint, None))
        .await
        .unwrap();
    let info = cloud
        .launch(MachineRole::Haproxy, "8-plan-1")
        .await
        .unwrap();
    let id = info.instance_id.unwrap();

    // moto answers RunInstances with `pending` and describes the instance as `running`
    // from then on (EC2 takes 5-20 s); the provider waits for nothing itself.
    let mut state = cloud.describe(&id).await.unwrap();
    for _ in 0..50 {
        if state == InstanceState::Running {
            break;
        }
        assert_eq!(state, InstanceState::Pending);
        tokio::time::sleep(Duration::from_millis(100)).await;
        state = cloud.describe(&id).await.unwrap();
    }
    assert_eq!(state, InstanceState::Running);

    let missing = "i-0123456789abcdef0";
    assert_eq!(
        cloud.describe(missing).await,
        Err(CloudError::NotFound(missing.to_string()))
    );
}

#[tokio::test]
async fn terminate_shuts_down_then_terminates_and_twice_is_not_an_error() {
    let moto = moto_or_skip!("terminate_shuts_down_then_terminates_and_twice_is_not_an_error");
    let cloud = Ec2Cloud::new(&support::config(&moto.endpoint, None))
        .await
        .unwrap();
    let info = cloud.launch(MachineRole::Redis, "9-plan-1").await.unwrap();
    let id = info.instance_id.unwrap();

    cloud.terminate(&id).await.unwrap();
    // EC2 passes through shutting-down; moto goes to terminated at once.
    let mut state = cloud.describe(&id).await.unwrap();
    for _ in 0..50 {
        if state == InstanceState::Terminated {
            break;
        }
        assert_eq!(state, InstanceState::ShuttingDown);
        tokio::time::sleep(Duration::from_millis(100)).await;
        state = cloud.describe(&id).await.unwrap();
    }
    assert_eq!(state, InstanceState::Terminated);

    cloud.terminate(&id).await.unwrap();
    // An instance EC2 no longer knows (terminated long ago) is already gone.
    cloud.terminate("i-0123456789abcdef0").await.unwrap();
    assert_eq!(
        cloud.describe(&id).await.unwrap(),
        InstanceState::Terminated
    );
}

#[tokio::test]
async fn route53_upsert_writes_the_machines_record() {
    let moto = moto_or_skip!("route53_upsert_writes_the_machines_record");
    let r53 = aws_sdk_route53::Client::new(&support::sdk(&moto.endpoint).await);
    let zone = r53
        .create_hosted_zone()
        .name("lb.example.internal")
        .caller_reference("failover-ec2-test")
        .send()
        .await
        .unwrap();
    let zone_id = zone
        .hosted_zone()
        .unwrap()
        .id()
        .trim_start_matches("/hostedzone/")
        .to_string();
    let mut config = support::config(&moto.endpoint, None);
    config.route53 = Some(support::route53(&moto.endpoint, &zone_id));
    let cloud = Ec2Cloud::new(&config).await.unwrap();

    let records = || async {
        let out = r53
            .list_resource_record_sets()
            .hosted_zone_id(&zone_id)
            .send()
            .await
            .unwrap();
        out.resource_record_sets()
            .iter()
            .filter(|r| r.r#type().as_str() == "A")
            .map(|r| {
                let values: Vec<String> = r
                    .resource_records()
                    .iter()
                    .map(|v| v.value().to_string())
                    .collect();
                (r.name().to_string(), r.ttl(), values)
            })
            .collect::<Vec<_>>()
    };

    cloud.upsert_record("haproxy1", "10.20.1.7").await.unwrap();
    assert_eq!(
        records().await,
        [(
            "haproxy1.lb.example.internal.".to_string(),
            Some(30),
            vec!["10.20.1.7".to_string()]
        )]
    );
    // UPSERT replaces: the machine moved.
    cloud.upsert_record("haproxy1", "10.20.1.9").await.unwrap();
    assert_eq!(
        records().await,
        [(
            "haproxy1.lb.example.internal.".to_string(),
            Some(30),
            vec!["10.20.1.9".to_string()]
        )]
    );

    for (machine, addr) in [
        ("haproxy1", "::1"),
        ("haproxy1", "host"),
        ("bad.name", "10.0.0.1"),
    ] {
        let err = cloud.upsert_record(machine, addr).await.unwrap_err();
        assert!(matches!(err, CloudError::Other(_)), "{err}");
    }
    // A zone Route53 does not have is the service's error, named.
    let mut config = config.clone();
    config.route53 = Some(support::route53(&moto.endpoint, "Z0000000000000NOSUCH"));
    let wrong = Ec2Cloud::new(&config).await.unwrap();
    let err = wrong
        .upsert_record("haproxy1", "10.20.1.9")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, CloudError::Other(m) if m.contains("ChangeResourceRecordSets") && m.contains("NoSuchHostedZone")),
        "{err}"
    );

    // Without a route53 table there is no record to keep.
    let plain = Ec2Cloud::new(&support::config(&moto.endpoint, None))
        .await
        .unwrap();
    plain.upsert_record("haproxy1", "10.20.1.1").await.unwrap();
    assert_eq!(records().await[0].2, ["10.20.1.9"]);
}

#[tokio::test]
async fn capacity_shortage_is_the_capacity_kind_and_a_retry_launches() {
    let moto = moto_or_skip!("capacity_shortage_is_the_capacity_kind_and_a_retry_launches");
    let front = FaultFront::start(&moto.endpoint).await;
    let cloud = Ec2Cloud::new(&support::config(&front.endpoint, None))
        .await
        .unwrap();

    front.arm(CAPACITY);
    let err = cloud
        .launch(MachineRole::Redis, "3-plan-1")
        .await
        .unwrap_err();
    assert_eq!(err, CloudError::Capacity(CAPACITY.message.to_string()));
    // What the controller decides on: a capacity wait, not a backoff.
    assert!(StepError::Cloud(err.clone()).is_capacity());
    // The SDK retried the server error itself (standard mode), each time with the
    // controller's token, so no attempt could have launched a second instance.
    let attempts = front.seen("RunInstances");
    assert!(attempts.len() >= 2, "{attempts:?}");
    assert!(attempts
        .iter()
        .all(|a| a.faulted && a.client_token.as_deref() == Some("3-plan-1")));
    assert!(
        instances_tagged(&moto.endpoint, "failover:plan", "3-plan-1")
            .await
            .is_empty()
    );

    // The shortage passed: the controller's retry, same token, launches.
    front.disarm();
    let info = cloud.launch(MachineRole::Redis, "3-plan-1").await.unwrap();
    let last = front.seen("RunInstances").pop().unwrap();
    assert!(!last.faulted);
    assert_eq!(last.client_token.as_deref(), Some("3-plan-1"));
    let found = instances_tagged(&moto.endpoint, "failover:plan", "3-plan-1").await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].instance_id(), info.instance_id.as_deref());
}

#[tokio::test]
async fn throttling_is_retried_by_the_sdk_then_reported_as_throttled() {
    let moto = moto_or_skip!("throttling_is_retried_by_the_sdk_then_reported_as_throttled");
    let front = FaultFront::start(&moto.endpoint).await;
    let cloud = Ec2Cloud::new(&support::config(&front.endpoint, None))
        .await
        .unwrap();
    let id = cloud
        .launch(MachineRole::Redis, "4-plan-1")
        .await
        .unwrap()
        .instance_id
        .unwrap();

    front.arm(THROTTLED_TERMINATE);
    let err = cloud.terminate(&id).await.unwrap_err();
    assert!(
        matches!(&err, CloudError::Other(m) if m.contains("RequestLimitExceeded (throttled)")),
        "{err}"
    );
    assert!(front.seen("TerminateInstances").len() >= 2);
    front.disarm();
    cloud.terminate(&id).await.unwrap();
    assert_eq!(
        cloud.describe(&id).await.unwrap(),
        InstanceState::Terminated
    );
}

#[tokio::test]
async fn an_endpoint_that_does_not_answer_is_an_error_naming_the_call() {
    // No moto needed to refuse a connection; the same dummy credentials.
    support::moto::dummy_environment();
    let closed = format!("http://127.0.0.1:{}", support::moto::free_port());
    let cloud = Ec2Cloud::new(&support::config(&closed, None))
        .await
        .unwrap();
    let err = cloud.describe("i-0123456789abcdef0").await.unwrap_err();
    assert!(
        matches!(&err, CloudError::Other(m) if m.starts_with("DescribeInstances failed")),
        "{err}"
    );
}

#[tokio::test]
async fn debug_and_errors_never_print_the_credentials() {
    let moto = moto_or_skip!("debug_and_errors_never_print_the_credentials");
    let cloud = Ec2Cloud::new(&support::config(&moto.endpoint, None))
        .await
        .unwrap();
    let debug = format!("{cloud:?}");
    assert!(debug.contains("us-east-1"), "{debug}");
    assert!(!debug.contains(SECRET), "{debug}");
    let err = cloud
        .launch(MachineRole::Redis, "bad token")
        .await
        .unwrap_err();
    assert!(!err.to_string().contains(SECRET));

    // A configuration out of bounds is refused before any client is built.
    let mut config = support::config(&moto.endpoint, None);
    config.redis.instance_type = "huge".into();
    let err = Ec2Cloud::new(&config).await.unwrap_err();
    assert!(
        matches!(&err, CloudError::Other(m) if m.contains("`redis.instance_type`")),
        "{err}"
    );
}

#[tokio::test]
async fn probe_dry_runs_each_roles_launch_and_reads_the_zone() {
    let moto = moto_or_skip!("probe_dry_runs_each_roles_launch_and_reads_the_zone");
    let r53 = aws_sdk_route53::Client::new(&support::sdk(&moto.endpoint).await);
    let zone = r53
        .create_hosted_zone()
        .name("lb.example.internal")
        .caller_reference("failover-ec2-probe")
        .send()
        .await
        .unwrap();
    let zone_id = zone
        .hosted_zone()
        .unwrap()
        .id()
        .trim_start_matches("/hostedzone/")
        .to_string();
    let mut config = support::config(&moto.endpoint, None);
    config.route53 = Some(support::route53(&moto.endpoint, &zone_id));
    let cloud = Ec2Cloud::new(&config).await.unwrap();

    let lines = cloud.probe().await.unwrap();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(
        lines[0].contains("redis machine (r5.large from ami-12c6146b) would succeed"),
        "{lines:?}"
    );
    assert!(lines[1].contains("haproxy machine (t3.micro"), "{lines:?}");
    assert!(
        lines[2].contains(&zone_id) && lines[2].contains("lb.example.internal"),
        "{lines:?}"
    );
    // A dry run launches nothing.
    assert!(instances_tagged(&moto.endpoint, "failover:plan", "probe")
        .await
        .is_empty());

    // An EC2 that does not answer is the probe's error.
    let closed = format!("http://127.0.0.1:{}", support::moto::free_port());
    let cloud = Ec2Cloud::new(&support::config(&closed, None))
        .await
        .unwrap();
    let err = cloud.probe().await.unwrap_err();
    assert!(
        matches!(&err, CloudError::Other(m) if m.contains("RunInstances (dry run) failed")),
        "{err}"
    );
}

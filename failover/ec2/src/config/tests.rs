use super::*;

const GOOD: &str = r#"
region = "eu-west-1"
endpoint_url = "http://127.0.0.1:5000"

[redis]
image_id = "ami-0123456789abcdef0"
instance_type = "r6g.large"
subnet_id = "subnet-12345678"
security_group_ids = ["sg-12345678", "sg-0123456789abcdef0"]
key_name = "ops"
tags = { team = "cache", Name = "redis" }

[haproxy]
image_id = "ami-12c6146b"
instance_type = "t3.micro"

[route53]
hosted_zone_id = "Z0123456789ABCDEFGHIJ"
record_suffix = ".lb.example.internal"
"#;

fn parse(text: &str) -> Result<Ec2Config, toml::de::Error> {
    toml::from_str(text)
}

fn good() -> Ec2Config {
    parse(GOOD).unwrap()
}

fn field_of(config: &Ec2Config) -> String {
    config.validate().unwrap_err().field
}

#[test]
fn a_full_configuration_parses_and_validates() {
    let c = good();
    c.validate().unwrap();
    assert_eq!(c.redis.security_group_ids.len(), 2);
    assert_eq!(c.haproxy.tags.len(), 0);
    assert_eq!(c.route53.as_ref().unwrap().ttl, 60);
}

#[test]
fn unknown_fields_are_refused_at_every_level() {
    for (from, to) in [
        ("region =", "regoin = \"x\"\nregion ="),
        ("[haproxy]\n", "[haproxy]\nimage = \"x\"\n"),
        ("[route53]\n", "[route53]\nzone = \"x\"\n"),
    ] {
        let text = GOOD.replacen(from, to, 1);
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.contains("unknown field"), "{err}");
    }
}

/// A change that puts one field out of bounds.
type Spoil = Box<dyn Fn(&mut Ec2Config)>;

#[test]
fn each_bad_field_is_named() {
    let cases: Vec<(&str, Spoil)> = vec![
        ("region", Box::new(|c| c.region = "EU west".into())),
        ("region", Box::new(|c| c.region = String::new())),
        (
            "endpoint_url",
            Box::new(|c| c.endpoint_url = Some("ftp://x".into())),
        ),
        (
            "endpoint_url",
            Box::new(|c| c.endpoint_url = Some("https://key:secret@ec2.local".into())),
        ),
        (
            "endpoint_url",
            Box::new(|c| c.endpoint_url = Some("http://127.0.0.1:0".into())),
        ),
        (
            "endpoint_url",
            Box::new(|c| c.endpoint_url = Some("http://127.0.0.1:5000/path".into())),
        ),
        (
            "redis.image_id",
            Box::new(|c| c.redis.image_id = "ami-xyz".into()),
        ),
        (
            "haproxy.image_id",
            Box::new(|c| c.haproxy.image_id = "i-12345678".into()),
        ),
        (
            "redis.instance_type",
            Box::new(|c| c.redis.instance_type = "large".into()),
        ),
        (
            "redis.instance_type",
            Box::new(|c| c.redis.instance_type = "T3.Micro".into()),
        ),
        (
            "redis.subnet_id",
            Box::new(|c| c.redis.subnet_id = Some("sub-1".into())),
        ),
        (
            "redis.security_group_ids[1]",
            Box::new(|c| c.redis.security_group_ids[1] = "sg-1".into()),
        ),
        (
            "redis.security_group_ids[1]",
            Box::new(|c| c.redis.security_group_ids[1] = "sg-12345678".into()),
        ),
        (
            "redis.security_group_ids",
            Box::new(|c| c.redis.security_group_ids = vec!["sg-12345678".into(); 17]),
        ),
        (
            "redis.tags.aws:x",
            Box::new(|c| {
                c.redis.tags.insert("aws:x".into(), "1".into());
            }),
        ),
        (
            "redis.tags.failover:plan",
            Box::new(|c| {
                c.redis.tags.insert(PLAN_TAG.into(), "1".into());
            }),
        ),
        (
            "redis.tags.team",
            Box::new(|c| {
                c.redis.tags.insert("team".into(), "x".repeat(257));
            }),
        ),
        (
            "redis.tags",
            Box::new(|c| {
                c.redis.tags = (0..49).map(|i| (format!("k{i}"), String::new())).collect();
            }),
        ),
        (
            "redis.key_name",
            Box::new(|c| c.redis.key_name = Some(String::new())),
        ),
        (
            "route53.hosted_zone_id",
            Box::new(|c| c.route53.as_mut().unwrap().hosted_zone_id = "/hostedzone/Z1".into()),
        ),
        (
            "route53.record_suffix",
            Box::new(|c| c.route53.as_mut().unwrap().record_suffix = "example.com".into()),
        ),
        (
            "route53.record_suffix",
            Box::new(|c| c.route53.as_mut().unwrap().record_suffix = ".a..b".into()),
        ),
        (
            "route53.ttl",
            Box::new(|c| c.route53.as_mut().unwrap().ttl = MAX_TTL + 1),
        ),
        (
            "route53.endpoint_url",
            Box::new(|c| c.route53.as_mut().unwrap().endpoint_url = Some("moto:5000".into())),
        ),
    ];
    for (field, change) in cases {
        let mut c = good();
        change(&mut c);
        assert_eq!(field_of(&c), field, "{c:?}");
        let text = c.validate().unwrap_err().to_string();
        assert!(
            text.starts_with(&format!("ec2 configuration: `{field}`: ")),
            "{text}"
        );
    }
}

#[test]
fn bounds_hold_at_their_edges() {
    let mut c = good();
    c.redis.security_group_ids = (0..MAX_SECURITY_GROUPS)
        .map(|i| format!("sg-{i:08x}"))
        .collect();
    c.redis.tags = (0..MAX_TAGS)
        .map(|i| (format!("k{i}"), "v".repeat(256)))
        .collect();
    c.route53.as_mut().unwrap().ttl = MAX_TTL;
    c.endpoint_url = Some("https://vpce-0abc.ec2.eu-west-1.vpce.amazonaws.com/".into());
    c.validate().unwrap();
    c.route53.as_mut().unwrap().ttl = 0;
    c.validate().unwrap();
}

#[test]
fn errors_echo_input_escaped_and_bounded() {
    let mut c = good();
    c.region = format!("\u{1b}[31m{}", "x".repeat(500));
    let text = c.validate().unwrap_err().to_string();
    assert!(!text.contains('\u{1b}'), "{text}");
    assert!(text.len() < 400, "{text}");
}

#[test]
fn record_names_are_the_machine_and_the_suffix() {
    let r = good().route53.unwrap();
    assert_eq!(
        r.record_name("haproxy-i-0123456789abcdef0").unwrap(),
        "haproxy-i-0123456789abcdef0.lb.example.internal."
    );
    for bad in ["", "a.b", "-a", "a_b", &"x".repeat(64)] {
        assert!(r.record_name(bad).is_err(), "{bad:?}");
    }
}

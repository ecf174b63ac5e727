//! The provider's settings as an operator writes them (a TOML table in failoverd's
//! configuration), and the bounds each field must keep. Validation names the field and
//! what would be valid, so `failoverd check-config` can put it beside the file's line.
//!
//! No credential is ever part of this configuration (they come from the SDK's standard
//! chain), and endpoint URLs may not carry user info, so `Debug` of these types cannot
//! print a secret.

use std::collections::BTreeMap;

use serde::Deserialize;

/// Tag keys the provider writes itself; a configured tag may not override them.
pub const ROLE_TAG: &str = "failover:role";
pub const PLAN_TAG: &str = "failover:plan";

/// EC2 allows 50 tags per resource; the provider adds two of its own.
pub const MAX_TAGS: usize = 48;
/// The default per-interface quota is 5; 16 is the most it can be raised to.
pub const MAX_SECURITY_GROUPS: usize = 16;
/// Route53 accepts up to 2147483647; a failover record changes when a machine is
/// replaced, so a day is already far longer than any resolver should keep it.
pub const MAX_TTL: u32 = 86_400;
const MAX_URL_LEN: usize = 2048;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ec2Config {
    /// e.g. `eu-west-1`.
    pub region: String,
    /// EC2's endpoint, when not the region's public one: moto, a VPC endpoint.
    #[serde(default)]
    pub endpoint_url: Option<String>,
    /// What a replacement redis machine is launched from.
    pub redis: ImageConfig,
    /// What a replacement haproxy machine is launched from.
    pub haproxy: ImageConfig,
    /// When set, the app-facing records are kept in this hosted zone.
    #[serde(default)]
    pub route53: Option<Route53Config>,
}

/// How one role's machines are launched.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageConfig {
    /// The AMI with the role's software installed and started at boot.
    pub image_id: String,
    pub instance_type: String,
    /// Without it, EC2 picks the default subnet of the default VPC.
    #[serde(default)]
    pub subnet_id: Option<String>,
    #[serde(default)]
    pub security_group_ids: Vec<String>,
    /// Added to the provider's own `failover:role` and `failover:plan` tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub key_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route53Config {
    /// The zone's id, e.g. `Z0123456789ABCDEFGHIJ` (without `/hostedzone/`).
    pub hosted_zone_id: String,
    /// Appended to a machine's name to make its record: `.redis.example.internal`.
    pub record_suffix: String,
    #[serde(default = "default_ttl")]
    pub ttl: u32,
    /// Route53's endpoint, when not the public one (moto). Route53 is a global service,
    /// so EC2's `endpoint_url` (often a VPC endpoint) does not apply to it; without this
    /// the SDK's own resolution applies (`AWS_ENDPOINT_URL_ROUTE_53`, the profile).
    #[serde(default)]
    pub endpoint_url: Option<String>,
}

fn default_ttl() -> u32 {
    60
}

/// A field outside its bounds: `field` is its path in the table (`redis.image_id`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ec2 configuration: `{field}`: {problem}")]
pub struct Ec2ConfigError {
    pub field: String,
    pub problem: String,
}

fn bad(field: impl Into<String>, problem: impl Into<String>) -> Ec2ConfigError {
    Ec2ConfigError {
        field: field.into(),
        problem: problem.into(),
    }
}

impl Ec2Config {
    /// Every field within its bounds, or the first that is not.
    pub fn validate(&self) -> Result<(), Ec2ConfigError> {
        check_region(&self.region)?;
        if let Some(url) = &self.endpoint_url {
            check_endpoint("endpoint_url", url)?;
        }
        self.redis.validate("redis")?;
        self.haproxy.validate("haproxy")?;
        if let Some(route53) = &self.route53 {
            route53.validate()?;
        }
        Ok(())
    }
}

impl ImageConfig {
    fn validate(&self, table: &str) -> Result<(), Ec2ConfigError> {
        let field = |name: &str| format!("{table}.{name}");
        check_resource_id(&field("image_id"), &self.image_id, "ami")?;
        check_instance_type(&field("instance_type"), &self.instance_type)?;
        if let Some(subnet) = &self.subnet_id {
            check_resource_id(&field("subnet_id"), subnet, "subnet")?;
        }
        if self.security_group_ids.len() > MAX_SECURITY_GROUPS {
            return Err(bad(
                field("security_group_ids"),
                format!(
                    "{} groups; an instance takes at most {MAX_SECURITY_GROUPS}",
                    self.security_group_ids.len()
                ),
            ));
        }
        for (i, group) in self.security_group_ids.iter().enumerate() {
            let name = format!("{table}.security_group_ids[{i}]");
            check_resource_id(&name, group, "sg")?;
            if self.security_group_ids[..i].contains(group) {
                return Err(bad(name, format!("`{group}` is listed twice")));
            }
        }
        self.validate_tags(table)?;
        if let Some(key) = &self.key_name {
            if key.is_empty() || key.len() > 255 || !is_printable_ascii(key) {
                return Err(bad(
                    field("key_name"),
                    "must be 1 to 255 printable ASCII characters",
                ));
            }
        }
        Ok(())
    }

    fn validate_tags(&self, table: &str) -> Result<(), Ec2ConfigError> {
        if self.tags.len() > MAX_TAGS {
            return Err(bad(
                format!("{table}.tags"),
                format!(
                    "{} tags; at most {MAX_TAGS} (EC2's 50 less the provider's {ROLE_TAG} and {PLAN_TAG})",
                    self.tags.len()
                ),
            ));
        }
        for (key, value) in &self.tags {
            let field = format!("{table}.tags.{key}");
            if key.is_empty() || key.chars().count() > 128 || key.chars().any(char::is_control) {
                return Err(bad(
                    field,
                    "a tag key is 1 to 128 characters, no control characters",
                ));
            }
            if key.to_ascii_lowercase().starts_with("aws:") {
                return Err(bad(field, "keys starting with `aws:` are reserved by AWS"));
            }
            if key == ROLE_TAG || key == PLAN_TAG {
                return Err(bad(field, "the provider writes this tag itself"));
            }
            if value.chars().count() > 256 || value.chars().any(char::is_control) {
                return Err(bad(
                    field,
                    "a tag value is at most 256 characters, no control characters",
                ));
            }
        }
        Ok(())
    }
}

impl Route53Config {
    fn validate(&self) -> Result<(), Ec2ConfigError> {
        let id = &self.hosted_zone_id;
        // Route53's own bound is 32 characters; its ids are upper-case letters and digits
        // (`Z...` on AWS, other letters on emulators).
        let id_ok = (1..=32).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if !id_ok {
            return Err(bad(
                "route53.hosted_zone_id",
                format!(
                    "`{}` is not a hosted zone id: 1 to 32 upper-case letters or digits (like `Z0123456789ABCDEFGHIJ`), without `/hostedzone/`",
                    printable(id)
                ),
            ));
        }
        check_record_suffix(&self.record_suffix)?;
        if self.ttl > MAX_TTL {
            return Err(bad(
                "route53.ttl",
                format!("{} s; must be 0 to {MAX_TTL} s", self.ttl),
            ));
        }
        if let Some(url) = &self.endpoint_url {
            check_endpoint("route53.endpoint_url", url)?;
        }
        Ok(())
    }

    /// The record for `machine`, fully qualified: `<machine><record_suffix>` with a
    /// trailing dot. The machine name must be one DNS label.
    pub fn record_name(&self, machine: &str) -> Result<String, String> {
        if !is_dns_label(machine) {
            return Err(format!(
                "machine name `{}` is not a DNS label (1 to 63 letters, digits or `-`, not starting or ending with `-`)",
                printable(machine)
            ));
        }
        let suffix = self.record_suffix.trim_end_matches('.');
        let name = format!("{machine}{suffix}.");
        if name.len() > 254 {
            return Err(format!(
                "record `{name}` is longer than DNS's 253 characters"
            ));
        }
        Ok(name)
    }
}

fn check_region(region: &str) -> Result<(), Ec2ConfigError> {
    let ok = !region.is_empty()
        && region.len() <= 32
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !region.starts_with('-')
        && !region.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(bad(
            "region",
            format!(
                "`{}` is not a region name (like `eu-west-1`: lower-case letters, digits and `-`, at most 32)",
                printable(region)
            ),
        ))
    }
}

/// `prefix-` and 8 or 17 lower-case hex digits, as EC2 writes its ids.
fn check_resource_id(field: &str, id: &str, prefix: &str) -> Result<(), Ec2ConfigError> {
    let hex = id
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('-'))
        .filter(|hex| matches!(hex.len(), 8 | 17))
        .filter(|hex| {
            hex.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        });
    match hex {
        Some(_) => Ok(()),
        None => Err(bad(
            field,
            format!(
                "`{}` is not an id of the form `{prefix}-` followed by 8 or 17 lower-case hex digits",
                printable(id)
            ),
        )),
    }
}

/// `family.size` (`t3.micro`, `u-6tb1.112xlarge`): the SDK accepts any text, EC2 refuses
/// a wrong one only at launch time, which is too late to learn of a typo.
fn check_instance_type(field: &str, value: &str) -> Result<(), Ec2ConfigError> {
    let ok = value.len() <= 32
        && value.split_once('.').is_some_and(|(family, size)| {
            let part = |s: &str| {
                !s.is_empty()
                    && s.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            };
            part(family) && part(size) && !size.contains('.')
        });
    if ok {
        Ok(())
    } else {
        Err(bad(
            field,
            format!(
                "`{}` is not an instance type (family.size, like `t3.micro`, at most 32 characters)",
                printable(value)
            ),
        ))
    }
}

fn check_record_suffix(suffix: &str) -> Result<(), Ec2ConfigError> {
    let field = "route53.record_suffix";
    let Some(domain) = suffix.strip_prefix('.') else {
        return Err(bad(
            field,
            format!(
                "`{}` must start with `.`: the record is the machine's name followed by it",
                printable(suffix)
            ),
        ));
    };
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    if domain.is_empty() || !domain.split('.').all(is_dns_label) {
        return Err(bad(
            field,
            format!(
                "`{}` is not a domain: labels of 1 to 63 letters, digits or `-`, separated by `.`",
                printable(suffix)
            ),
        ));
    }
    // Leave room for a machine name of its own (`redis-i-` and 17 hex digits is 25).
    if domain.len() > 200 {
        return Err(bad(
            field,
            "at most 200 characters, so that the machine name fits",
        ));
    }
    Ok(())
}

/// Refused: other schemes, no host, user info (a password in a URL would reach the logs),
/// a path, query or fragment (the SDK appends its own), and anything too long.
fn check_endpoint(field: &str, url: &str) -> Result<(), Ec2ConfigError> {
    let problem = |what: &str| bad(field, format!("`{}` {what}", printable(url)));
    if url.len() > MAX_URL_LEN {
        return Err(bad(field, format!("longer than {MAX_URL_LEN} characters")));
    }
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| problem("must start with http:// or https://"))?;
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.is_empty() {
        return Err(problem("has no host"));
    }
    if authority.contains('@') {
        return Err(problem(
            "carries user info; credentials come from the SDK's chain, never the URL",
        ));
    }
    if authority.contains(['/', '?', '#']) {
        return Err(problem(
            "must be scheme://host[:port] only, no path, query or fragment",
        ));
    }
    if !is_printable_ascii(authority) || authority.contains(' ') {
        return Err(problem("has characters a host name cannot have"));
    }
    if let Some((_, port)) = authority
        .rsplit_once(':')
        .filter(|_| !authority.ends_with(']'))
    {
        if port.parse::<u16>().map_or(true, |p| p == 0) {
            return Err(problem("has a port that is not 1 to 65535"));
        }
    }
    Ok(())
}

fn is_dns_label(label: &str) -> bool {
    (1..=63).contains(&label.len())
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

fn is_printable_ascii(s: &str) -> bool {
    s.bytes().all(|b| (0x20..0x7f).contains(&b))
}

/// Echoed text, its control characters escaped and its length bounded.
fn printable(s: &str) -> String {
    let mut out: String = s.chars().take(80).flat_map(char::escape_default).collect();
    if s.chars().count() > 80 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests;

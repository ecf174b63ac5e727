//! The small traits through which the shell acts on the world. The lab implements them
//! over turmoil (simulated network, simulated EC2); `failoverd` over tokio and a real cloud.

use std::future::Future;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::layout::{MachineInfo, MachineRole};

/// Opens TCP connections: turmoil's `TcpStream` in the lab, tokio's in production.
pub trait Connector {
    type Stream: AsyncRead + AsyncWrite + Unpin + 'static;

    fn connect(&self, host: &str, port: u16)
        -> impl Future<Output = std::io::Result<Self::Stream>>;
}

/// An instance's life as EC2 reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InstanceState {
    Pending,
    Running,
    ShuttingDown,
    Terminated,
}

/// Defined in the core: a step's error carries it, and the controller decides on its kind.
pub use crate::error::CloudError;

/// Launch from an image, terminate, describe.
pub trait Cloud {
    /// Launches one machine of `role` from its image. `token` makes the call idempotent
    /// (EC2's ClientToken): launching again with the same token returns the same machine,
    /// which is what lets a restarted controller resume a plan without launching twice.
    fn launch(
        &self,
        role: MachineRole,
        token: &str,
    ) -> impl Future<Output = Result<MachineInfo, CloudError>>;

    /// Terminates an instance; terminating one already gone is not an error.
    fn terminate(&self, instance_id: &str) -> impl Future<Output = Result<(), CloudError>>;

    fn describe(
        &self,
        instance_id: &str,
    ) -> impl Future<Output = Result<InstanceState, CloudError>>;
}

/// Where the controller keeps its state so a restarted controller resumes its plans:
/// a file in production, the monit machine's (simulated) disk in the lab.
pub trait Store {
    fn load(&self) -> Option<String>;
    fn save(&self, state: &str);
}

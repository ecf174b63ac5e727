//! The two status dumps of the runtime API, in haproxy 2.6's exact formats:
//! `show servers state` (format version 1) and `show stat` (CSV). The CSV rows are built
//! on row templates captured from haproxy 2.6.12, with the columns the model knows filled
//! in (names, status, weights, check results, sessions); counters it does not model stay
//! at the template's zeros.

use super::state::{now, BackendState, ServerState, State};

const SERVERS_STATE_HEADER: &str = "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port";

pub const STAT_HEADER: &str = "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,conn_rate,conn_rate_max,conn_tot,intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,srv_icur,src_ilim,qtime_max,ctime_max,rtime_max,ttime_max,eint,idle_conn_cur,safe_conn_cur,used_conn_cur,need_conn_est,uweight,agg_server_status,agg_server_check_status,agg_check_status,-,ssl_sess,ssl_reused_sess,ssl_failed_handshake,h2_headers_rcvd,h2_data_rcvd,h2_settings_rcvd,h2_rst_stream_rcvd,h2_goaway_rcvd,h2_detected_conn_protocol_errors,h2_detected_strm_protocol_errors,h2_rst_stream_resp,h2_goaway_resp,h2_open_connections,h2_backend_open_streams,h2_total_connections,h2_backend_total_streams,h1_open_connections,h1_open_streams,h1_total_connections,h1_total_streams,h1_bytes_in,h1_bytes_out,h1_spliced_bytes_in,h1_spliced_bytes_out,";

const FRONTEND_ROW: &str = "fe,FRONTEND,,,0,0,9985,0,0,0,0,0,0,,,,,OPEN,,,,,,,,,1,2,0,,,,0,0,0,0,,,,,,,,,,,0,0,0,,,0,0,0,0,,,,,,,,,,,,,,,,,,,,,tcp,,0,0,0,,0,0,0,,,,,,,,,,,0,,,,,,,,,-,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,";
const SERVER_ROW: &str = "be,srv,0,0,0,0,,0,0,0,,0,,0,0,0,0,DOWN,1,1,0,1,1,0,0,,1,3,1,,0,,2,0,,0,L4CON,,0,,,,,,,,,,,0,0,,,,,-1,,,0,0,0,0,,,,Layer4 connection problem,,2,3,0,,,,127.0.0.1:1,,tcp,,,,,,,,0,0,0,,,0,,0,0,0,0,0,0,0,0,1,1,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,";
const BACKEND_ROW: &str = "be,BACKEND,0,0,0,0,999,0,0,0,0,0,,0,0,0,0,UP,1,0,1,,0,0,0,,1,3,0,,0,,1,0,,0,,,,,,,,,,,,,,0,0,0,0,0,0,-1,,,0,0,0,0,,,,,,,,,,,,,,tcp,roundrobin,,,,,,,0,0,0,,,,,0,0,0,0,0,,,,,1,0,0,0,-,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,";

// Column indexes in the CSV (0-based, as in the header above).
const PXNAME: usize = 0;
const SVNAME: usize = 1;
const SCUR: usize = 4;
const STOT: usize = 7;
const STATUS: usize = 17;
const WEIGHT: usize = 18;
const ACT: usize = 19;
const BCK: usize = 20;
const CHKFAIL: usize = 21;
const CHKDOWN: usize = 22;
const LASTCHG: usize = 23;
const DOWNTIME: usize = 24;
const IID: usize = 27;
const SID: usize = 28;
const CHECK_STATUS: usize = 36;
const CHECK_DURATION: usize = 38;
const CHECK_DESC: usize = 65;
const CHECK_RISE: usize = 67;
const CHECK_FALL: usize = 68;
const CHECK_HEALTH: usize = 69;
const ADDR: usize = 73;

fn row(template: &str) -> Vec<String> {
    template.split(',').map(str::to_string).collect()
}

fn server_state_row(b: &BackendState, s: &ServerState) -> String {
    let op_state = if s.running && !s.maint { 2 } else { 0 };
    let admin = u32::from(s.maint) | if s.drain { 0x08 } else { 0 };
    let check_result = match s.check_passed {
        None => 0,
        Some(false) => 2,
        Some(true) => 3,
    };
    let check_state = if s.check_configured {
        0x02 | if s.check_enabled { 0x04 } else { 0 } | if s.maint { 0x08 } else { 0 }
    } else {
        0
    };
    let since = now().saturating_sub(s.last_change).as_secs();
    format!(
        "{} {} {} {} {} {op_state} {admin} 1 1 {since} {} {check_result} {} {check_state} 0 0 0 - {} - 0 0 - - 0",
        b.id,
        b.name,
        s.id,
        s.name,
        s.addr,
        s.check_status.code(),
        s.health,
        s.port
    )
}

/// `show servers state [backend]`; `None` when the backend is unknown.
pub fn show_servers_state(state: &State, backend: Option<&str>) -> Option<String> {
    let mut out = format!("1\n{SERVERS_STATE_HEADER}\n");
    let mut found = backend.is_none();
    for b in &state.backends {
        if backend.is_some_and(|name| name != b.name) {
            continue;
        }
        found = true;
        for s in &b.servers {
            out.push_str(&server_state_row(b, s));
            out.push('\n');
        }
    }
    out.push('\n');
    found.then_some(out)
}

/// `show stat`: the header, a FRONTEND row per frontend, then per backend a row per server
/// and a BACKEND row, then an empty line.
pub fn show_stat(state: &State) -> String {
    let mut out = format!("{STAT_HEADER}\n");
    let t = now();
    for (name, id) in &state.frontends {
        let mut r = row(FRONTEND_ROW);
        r[PXNAME] = name.clone();
        r[IID] = id.to_string();
        out.push_str(&r.join(","));
        out.push('\n');
    }
    for b in &state.backends {
        for s in &b.servers {
            let mut r = row(SERVER_ROW);
            r[PXNAME] = b.name.clone();
            r[SVNAME] = s.name.clone();
            r[SCUR] = s.sessions.len().to_string();
            r[STOT] = s.stot.to_string();
            r[STATUS] = s.status_text();
            r[ACT] = u32::from(!s.backup).to_string();
            r[BCK] = u32::from(s.backup).to_string();
            r[LASTCHG] = t.saturating_sub(s.last_change).as_secs().to_string();
            r[IID] = b.id.to_string();
            r[SID] = s.id.to_string();
            r[ADDR] = format!("{}:{}", s.addr, s.port);
            if s.check_configured {
                r[CHKFAIL] = s.chkfail.to_string();
                r[CHKDOWN] = s.chkdown.to_string();
                r[DOWNTIME] = "0".into();
            }
            // In maintenance real haproxy shows no check status, result or health.
            if s.check_configured && !s.maint {
                r[CHECK_STATUS] = if s.check_running {
                    format!("* {}", s.check_status.name())
                } else {
                    s.check_status.name().into()
                };
                if s.check_status == super::state::CheckStatus::Ini {
                    r[CHECK_DURATION] = String::new();
                }
                r[CHECK_DESC] = s.check_status.desc().into();
                r[CHECK_RISE] = s.rise.to_string();
                r[CHECK_FALL] = s.fall.to_string();
                r[CHECK_HEALTH] = s.health.to_string();
            } else {
                if !s.check_configured {
                    for i in [CHKFAIL, CHKDOWN, DOWNTIME] {
                        r[i] = String::new();
                    }
                }
                for i in [
                    CHECK_STATUS,
                    CHECK_DURATION,
                    CHECK_DESC,
                    CHECK_RISE,
                    CHECK_FALL,
                    CHECK_HEALTH,
                ] {
                    r[i] = String::new();
                }
            }
            out.push_str(&r.join(","));
            out.push('\n');
        }
        let mut r = row(BACKEND_ROW);
        let active = b.servers.iter().filter(|s| !s.backup && s.usable()).count();
        let backup = b.servers.iter().filter(|s| s.backup && s.usable()).count();
        r[PXNAME] = b.name.clone();
        r[SCUR] = b
            .servers
            .iter()
            .map(|s| s.sessions.len())
            .sum::<usize>()
            .to_string();
        r[STOT] = b.servers.iter().map(|s| s.stot).sum::<u64>().to_string();
        r[STATUS] = if active + backup > 0 { "UP" } else { "DOWN" }.into();
        // haproxy counts backups in the weight only when no active server is usable.
        r[WEIGHT] = if active > 0 { active } else { backup }.to_string();
        r[ACT] = active.to_string();
        r[BCK] = backup.to_string();
        r[IID] = b.id.to_string();
        out.push_str(&r.join(","));
        out.push('\n');
    }
    out.push('\n');
    out
}

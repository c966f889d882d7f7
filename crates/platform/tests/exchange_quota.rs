//! One institution's exchanged files are bounded: past
//! `yibao_platform::exchange::FILES_PER_INSTITUTION_MAX` live files a further 9101 is refused,
//! naming the count. On SQLite and PostgreSQL (the count is a query of each backend's own).

use serde_json::{json, Value};
use yibao_platform::exchange::FILES_PER_INSTITUTION_MAX;
use yibao_platform::Platform;

mod common;
use common::{call, chongqing, on_postgres, on_sqlite, register_institution, start_platform};

fn upload(n: usize) -> Value {
    use base64::Engine;
    let bytes = format!("S{n}\tM{n}\tP1\t1.00\t0.50\t0.00\t0\n");
    json!({ "fsUploadIn": {
        "in": base64::engine::general_purpose::STANDARD.encode(bytes),
        "filename": format!("200-{n}.txt"),
    } })
}

async fn fill_up(platform: Platform) {
    register_institution(&platform).await;
    let max = usize::try_from(FILES_PER_INSTITUTION_MAX).unwrap();
    // Fifty HIS clients at once, so that the uploads commit in batches; their msgid serials
    // (20 each) stay apart from the last call's.
    let clients: Vec<_> = (0..50)
        .map(|client| {
            let platform = platform.clone();
            tokio::spawn(async move {
                let mut serial = u32::try_from(client * 100).unwrap();
                for n in (client..max).step_by(50) {
                    let answer = call(&platform, &mut serial, "9101", upload(n)).await;
                    assert_eq!(answer["infcode"], 0, "{answer}");
                }
            })
        })
        .collect();
    for client in clients {
        client.await.unwrap();
    }
    let mut serial = 9_000;
    let refused = call(&platform, &mut serial, "9101", upload(max)).await;
    assert_eq!(refused["infcode"], -1);
    let message = refused["err_msg"].as_str().unwrap();
    assert!(
        message.starts_with(&format!("本机构未过期文件{max}个")) && message.contains("已达上限"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_files_per_institution_are_bounded() {
    on_sqlite("exchange-quota", |url| async move {
        fill_up(start_platform(&url, chongqing(&["2023.toml"], &[]))).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_files_per_institution_are_bounded() {
    on_postgres("exchange_quota", |url| async move {
        fill_up(start_platform(&url, chongqing(&["2023.toml"], &[]))).await;
    })
    .await;
}

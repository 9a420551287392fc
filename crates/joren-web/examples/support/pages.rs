//! The page benchmarks' common part: signing in through the login form as a browser does, and
//! timing one page over loopback.

use std::time::Instant;

/// Serves `app` on a free loopback port; returns its address and a client that does not
/// follow redirects.
pub async fn serve(app: &joren_app::App) -> Result<(String, reqwest::Client), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let app = app.clone();
    tokio::spawn(async move { joren_web::serve(app, listener, std::future::pending()).await });
    joren_app::install_tls();
    Ok((base, reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?))
}

/// Signs `user` in through the login form (its CSRF cookie and token) and returns the session
/// cookie (`name=value`) to send with each page.
pub async fn login(
    client: &reqwest::Client,
    base: &str,
    user: &str,
    password: &str,
) -> Result<String, Box<dyn std::error::Error>> {
    let page = client.get(format!("{base}/login")).send().await?;
    let form_cookie = page.headers().get("set-cookie").ok_or("no login cookie")?.to_str()?;
    let form_cookie = form_cookie.split(';').next().unwrap_or_default().to_string();
    let html = page.text().await?;
    let csrf = html.split("name=\"csrf\" value=\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or_default();
    let login = client
        .post(format!("{base}/login"))
        .header("cookie", form_cookie)
        .form(&[("username", user), ("password", password), ("next", "/"), ("csrf", csrf)])
        .send()
        .await?;
    let cookie = login.headers().get("set-cookie").ok_or("no session cookie")?.to_str()?;
    Ok(cookie.split(';').next().unwrap_or_default().to_string())
}

/// Sends `request()` `warm_ups + runs` times, each answer read whole and required to be 200,
/// and prints the answer's size and the median, p95 and max of the last `runs` (server time
/// over loopback).
pub async fn time_page(
    name: &str,
    warm_ups: usize,
    runs: usize,
    request: impl Fn() -> reqwest::RequestBuilder,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut times = Vec::with_capacity(runs);
    let mut bytes = 0;
    for i in 0..warm_ups + runs {
        let t = Instant::now();
        let r = request().send().await?;
        let status = r.status();
        let body = r.bytes().await?;
        if status != 200 {
            return Err(format!("{name}: HTTP {status}: {}", String::from_utf8_lossy(&body)).into());
        }
        if i >= warm_ups {
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        bytes = body.len();
    }
    times.sort_by(|a, b| a.total_cmp(b));
    println!(
        "{name:<24} {bytes:>8} bytes  median {:>7.1} ms  p95 {:>7.1} ms  max {:>7.1} ms",
        times[times.len() / 2],
        times[times.len() * 95 / 100],
        times[times.len() - 1]
    );
    Ok(())
}

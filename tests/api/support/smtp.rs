//! A tiny SMTP sink on loopback for the e-mail tests: it accepts every message (EHLO, MAIL,
//! RCPT, DATA, QUIT; no TLS, no authentication) and keeps it in memory. It stops with the test.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

pub struct Sink {
    pub port: u16,
    messages: Arc<Mutex<Vec<String>>>,
}

impl Sink {
    pub async fn start() -> Sink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let messages = Arc::new(Mutex::new(Vec::new()));
        let kept = messages.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let kept = kept.clone();
                tokio::spawn(async move {
                    let (read, mut write) = socket.into_split();
                    let mut lines = BufReader::new(read);
                    let _ = write.write_all(b"220 sink.test ESMTP for tests\r\n").await;
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                            break;
                        }
                        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                        let answer: &[u8] = match verb.as_str() {
                            "EHLO" | "HELO" => b"250 sink.test\r\n",
                            "DATA" => {
                                let _ = write.write_all(b"354 end with .\r\n").await;
                                let mut message = String::new();
                                loop {
                                    line.clear();
                                    if lines.read_line(&mut line).await.unwrap_or(0) == 0 || line == ".\r\n" {
                                        break;
                                    }
                                    message.push_str(&line);
                                }
                                kept.lock().unwrap().push(message);
                                b"250 queued\r\n"
                            }
                            "QUIT" => {
                                let _ = write.write_all(b"221 bye\r\n").await;
                                break;
                            }
                            _ => b"250 OK\r\n",
                        };
                        if write.write_all(answer).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        Sink { port, messages }
    }

    /// The configuration that sends here.
    pub fn config(&self) -> pintu::config::MailConfig {
        pintu::config::MailConfig {
            smtp: Some(pintu::config::SmtpConfig {
                host: "127.0.0.1".into(),
                port: self.port,
                security: pintu::config::SmtpSecurity::None,
                credentials: None,
                from: "Pintu <sso@kab.example.go.id>".into(),
            }),
        }
    }

    /// The first message to `to` received so far, waiting up to ten seconds for one.
    pub async fn message_to(&self, to: &str) -> Option<String> {
        for _ in 0..100 {
            let found = self.messages.lock().unwrap().iter().find(|m| m.contains(&format!("To: {to}"))).cloned();
            if found.is_some() {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        None
    }

    pub fn all(&self) -> Vec<String> {
        self.messages.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.messages.lock().unwrap().len()
    }
}

//! `joren user …` and `joren token …`: staff accounts and API tokens.

use super::*;
use joren_app::auth::UserEdit;

#[derive(Subcommand)]
pub(crate) enum UserCommand {
    /// Create a user. The password is read from standard input (`--password-stdin`) or
    /// generated and printed (`--generate-password`); nothing else secret is printed.
    Create {
        username: String,
        #[arg(long, value_enum, default_value = "staff")]
        role: RoleArg,
        #[arg(long, default_value = "")]
        display_name: String,
        #[arg(long, conflicts_with = "generate_password")]
        password_stdin: bool,
        #[arg(long)]
        generate_password: bool,
    },
    /// List users.
    List,
    /// Change a user's role.
    SetRole {
        username: String,
        #[arg(value_enum)]
        role: RoleArg,
    },
    /// Set a new password (read from standard input).
    Passwd { username: String },
    /// Disable a user (ends their sessions).
    Disable { username: String },
    /// Enable a disabled user.
    Enable { username: String },
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum RoleArg {
    Owner,
    Staff,
    Viewer,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Owner => Role::Owner,
            RoleArg::Staff => Role::Staff,
            RoleArg::Viewer => Role::Viewer,
        }
    }
}

#[derive(Subcommand)]
pub(crate) enum TokenCommand {
    /// Create an API token for a user and print it (shown only once).
    Create {
        #[arg(long)]
        user: String,
        #[arg(long, default_value = "api")]
        name: String,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by id.
    Revoke { id: i64 },
}

pub(crate) fn read_password_stdin() -> Result<String> {
    let mut s = String::new();
    std::io::stdin().read_line(&mut s).context("reading password from standard input")?;
    let p = s.trim_end_matches(['\r', '\n']).to_string();
    if p.is_empty() {
        bail!("empty password on standard input");
    }
    Ok(p)
}

pub(crate) async fn user(g: &Global, c: UserCommand, actor: &Actor) -> Result<()> {
    let app = open(&g.database_url, config(g, false)?).await?;
    match c {
        UserCommand::Create { username, role, display_name, password_stdin, generate_password } => {
            let password = if password_stdin {
                read_password_stdin()?
            } else if generate_password {
                joren_app::auth::temporary_password_for(&username)
            } else {
                bail!("give --password-stdin (read from standard input) or --generate-password (printed once)");
            };
            let id = app.create_user(actor, &username, &display_name, role.into(), &password).await?;
            println!("created user {username} (id {id}, role {})", Role::from(role).as_str());
            if generate_password {
                println!("password: {password}");
            }
        }
        UserCommand::List => {
            for u in app.list_users(actor).await? {
                println!(
                    "{}\t{}\t{}\t{}{}",
                    u.id,
                    u.username,
                    u.role.as_str(),
                    u.display_name,
                    if u.disabled { "\t(disabled)" } else { "" }
                );
            }
        }
        UserCommand::SetRole { username, role } => {
            app.update_user(actor, &username, UserEdit { role: Some(role.into()), ..Default::default() }).await?;
            println!("{username} is now {}", Role::from(role).as_str());
        }
        UserCommand::Passwd { username } => {
            let p = read_password_stdin()?;
            app.update_user(actor, &username, UserEdit { password: Some(&p), ..Default::default() }).await?;
            println!("password of {username} changed");
        }
        UserCommand::Disable { username } => {
            app.update_user(actor, &username, UserEdit { disabled: Some(true), ..Default::default() }).await?;
            println!("{username} disabled");
        }
        UserCommand::Enable { username } => {
            app.update_user(actor, &username, UserEdit { disabled: Some(false), ..Default::default() }).await?;
            println!("{username} enabled");
        }
    }
    Ok(())
}

pub(crate) async fn token(g: &Global, c: TokenCommand, actor: &Actor) -> Result<()> {
    let app = open(&g.database_url, config(g, false)?).await?;
    match c {
        TokenCommand::Create { user, name } => {
            let (secret, id) = app.create_api_token(actor, &user, &name).await?;
            eprintln!("token {id} for {user} created; it is shown only once:");
            println!("{secret}");
        }
        TokenCommand::List => {
            for t in app.list_api_tokens(actor).await? {
                println!(
                    "{}\tuser {}\t{}\tcreated {}\tlast used {}{}",
                    t.id,
                    t.user_id,
                    t.name,
                    app.local_time(t.created_at),
                    t.last_used_at.map(|d| app.local_time(d)).unwrap_or_else(|| "never".into()),
                    if t.revoked { "\t(revoked)" } else { "" }
                );
            }
        }
        TokenCommand::Revoke { id } => {
            app.revoke_api_token(actor, id).await?;
            println!("token {id} revoked");
        }
    }
    Ok(())
}

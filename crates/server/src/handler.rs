//! The protocol handlers: simple and extended query over a per-connection [`Session`].
//!
//! Each connection owns one SQL session, created on its first statement and kept in the
//! connection's extension store. Statements run on tokio's blocking pool (the SQL core is
//! synchronous and may wait on row locks); the connection's task awaits the result, so one
//! slow statement never stalls other connections.
//!
//! Transaction status in ReadyForQuery comes from the session itself (idle, in a block, or in
//! a failed block), not from guessing at statement kinds.

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::{Arc, Weak};

use async_trait::async_trait;
use bytes::BytesMut;
use futures::{stream, Sink, SinkExt};
use parking_lot::Mutex;
use pgwire::api::cancel::CancelHandler;
use pgwire::api::copy::{send_copy_in_response, send_copy_out_response, CopyHandler};
use pgwire::api::portal::{Format, Portal};
use pgwire::api::query::{
    send_execution_response, send_query_response, send_ready_for_query, ExtendedQueryHandler,
    SimpleQueryHandler,
};
use pgwire::api::results::{
    CopyResponse, DescribePortalResponse, DescribeStatementResponse, FieldFormat, FieldInfo,
    QueryResponse, Response, Tag,
};
use pgwire::api::stmt::{QueryParser, StoredStatement};
use pgwire::api::store::{Entry, PortalStore};
use pgwire::api::{ClientInfo, ClientPortalStore, PgWireConnectionState, Type, DEFAULT_NAME};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::cancel::CancelRequest;
use pgwire::messages::copy::{CopyData, CopyDone, CopyFail};
use pgwire::messages::data::DataRow;
use pgwire::messages::extendedquery::{
    Bind, BindComplete, Close, CloseComplete, Describe, Parse, ParseComplete,
    TARGET_TYPE_BYTE_PORTAL, TARGET_TYPE_BYTE_STATEMENT,
};
use pgwire::messages::response::{EmptyQueryResponse, TransactionStatus};
use pgwire::messages::simplequery::Query;
use pgwire::messages::PgWireBackendMessage;
use zizhu_sql::execution::Interrupt;
use zizhu_sql::planner::Label;
use zizhu_sql::types::DataType;
use zizhu_sql::{CopyIn, Database, Prepared, RedbEngine, Session, StatementResult};
use zizhu_types::Value;

use crate::batch::Batched;
use crate::wire;

/// A connection's SQL session.
pub struct Connection {
    session: Mutex<Session<RedbEngine>>,
    /// Ends the connection (idle_in_transaction_session_timeout); see [`crate::ending`].
    end: Option<Arc<tokio::sync::watch::Sender<bool>>>,
    /// The running idle-in-transaction timer, if armed.
    idle_timer: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// Cancels the session's running statement (cancel requests, statement_timeout).
    interrupt: Arc<Interrupt>,
    /// A `COPY ... FROM STDIN` in progress and the data received so far.
    copy: Mutex<Option<(CopyIn, Vec<u8>)>>,
}

impl Connection {
    fn status(&self) -> TransactionStatus {
        let session = self.session.lock();
        if session.in_failed_transaction() {
            TransactionStatus::Error
        } else if session.in_transaction() {
            TransactionStatus::Transaction
        } else {
            TransactionStatus::Idle
        }
    }
}

/// Runs `f` on the connection's session, on the connection's own thread, cancelling it
/// through the session's interrupt if `statement_timeout` passes first. The timer runs on
/// the server's shared runtime, as this thread is busy with the statement.
fn with_session<T>(
    timers: &tokio::runtime::Handle,
    conn: &Connection,
    f: impl FnOnce(&mut Session<RedbEngine>) -> T,
) -> T {
    conn.interrupt.reset();
    let mut session = conn.session.lock();
    let timer = session.settings().statement_timeout().map(|limit| {
        let interrupt = conn.interrupt.clone();
        timers.spawn(async move {
            tokio::time::sleep(limit).await;
            interrupt.time_out();
        })
    });
    let result = f(&mut session);
    if let Some(timer) = timer {
        timer.abort();
    }
    // Idle in a transaction from now until the client's next message (the setting is read
    // only then: not on every statement).
    let idle_limit = match session.in_transaction() {
        true => session.settings().idle_in_transaction_timeout(),
        false => None,
    };
    if let (Some(limit), Some(end)) = (idle_limit, conn.end.clone()) {
        let timer = timers.spawn(async move {
            tokio::time::sleep(limit).await;
            let _ = end.send(true);
        });
        if let Some(old) = conn.idle_timer.lock().replace(timer) {
            old.abort();
        }
    }
    result
}

/// A connection's cancel key: the pid and secret it was sent in BackendKeyData.
type CancelKey = (i32, Vec<u8>);

/// The live connections by their cancel key, for cancel requests.
#[derive(Default)]
struct Registry {
    connections: Mutex<HashMap<CancelKey, Weak<Connection>>>,
}

/// The handlers shared by all connections.
pub struct Handler {
    db: Arc<Database<RedbEngine>>,
    /// The server's shared runtime, which keeps statement timers.
    timers: tokio::runtime::Handle,
    parser: Arc<Parser>,
    registry: Arc<Registry>,
}

impl Handler {
    /// Handlers over `db`.
    pub fn new(db: Arc<Database<RedbEngine>>, timers: tokio::runtime::Handle) -> Self {
        let registry = Arc::new(Registry::default());
        Self {
            parser: Arc::new(Parser {
                db: db.clone(),
                registry: registry.clone(),
                timers: timers.clone(),
            }),
            timers,
            db,
            registry,
        }
    }
}

impl Handler {
    /// Opens the connection's session as soon as it has logged in, so that it counts as a
    /// session of its database (DROP DATABASE refuses while one is) even before its first
    /// statement. A failure here (the database dropped since the login was checked) is
    /// reported at the first statement.
    pub fn open<C: ClientInfo>(&self, client: &C) {
        let _ = connection(&self.db, &self.registry, client);
    }
}

/// The connection's session, created on first use with the startup parameters it can take,
/// and registered for cancel requests.
fn connection<C: ClientInfo>(
    db: &Arc<Database<RedbEngine>>,
    registry: &Registry,
    client: &C,
) -> PgWireResult<Arc<Connection>> {
    if let Some(conn) = client.session_extensions().get::<Connection>() {
        // A message from the client: it is not idle.
        if let Some(timer) = conn.idle_timer.lock().take() {
            timer.abort();
        }
        return Ok(conn);
    }
    let metadata = client.metadata();
    let user = metadata.get("user").cloned().unwrap_or_default();
    let database = metadata
        .get("database")
        .cloned()
        .unwrap_or_else(|| user.clone());
    // The database was checked at login; only a DROP DATABASE since can make this fail.
    let session = db.connect(&database, &user).map_err(|e| sql_error(&e))?;
    let conn = client.session_extensions().get_or_insert_with(|| {
        let mut session = session;
        if let Some(name) = client.metadata().get("application_name") {
            // A name the setting refuses is ignored, as a bad startup option would be
            // reported but not fatal.
            let _ = session.execute(&format!(
                "SET application_name = '{}'",
                name.replace('\'', "''")
            ));
        }
        Connection {
            interrupt: session.interrupt(),
            session: Mutex::new(session),
            copy: Mutex::new(None),
            end: crate::ending(),
            idle_timer: Mutex::new(None),
        }
    });
    let (pid, secret) = client.pid_and_secret_key();
    let mut connections = registry.connections.lock();
    connections.retain(|_, c| c.strong_count() > 0);
    connections.insert((pid, secret.to_bytes().to_vec()), Arc::downgrade(&conn));
    Ok(conn)
}

fn sql_error(err: &zizhu_sql::Error) -> PgWireError {
    PgWireError::UserError(Box::new(wire::error_info(err)))
}

/// Result columns as RowDescription fields, in the formats asked for.
fn fields(labels: &[Label], format: Option<&Format>) -> Vec<FieldInfo> {
    labels
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let format = format.map_or(FieldFormat::Text, |f| f.format_for(i));
            FieldInfo::new(
                l.name.clone(),
                None,
                None,
                wire::pg_type(&l.data_type),
                format,
            )
            .with_type_modifier(l.data_type.type_modifier())
        })
        .collect()
}

/// Rows as DataRow messages; `binary` holds, per column sent in binary format, its
/// announced type.
fn data_rows(rows: Vec<Vec<Value>>, binary: Vec<Option<DataType>>) -> Vec<PgWireResult<DataRow>> {
    rows.into_iter()
        .map(|row| {
            let mut buf = BytesMut::with_capacity(16 * row.len());
            for (i, value) in row.iter().enumerate() {
                match binary.get(i).cloned().flatten() {
                    Some(ty) => wire::put_binary_as(&mut buf, value, &ty),
                    None => wire::put_field(&mut buf, value, false),
                }
            }
            Ok(DataRow::new(buf, row.len() as i16))
        })
        .collect()
}

/// A statement's result as a protocol response.
fn response(result: StatementResult, format: Option<&Format>) -> Response {
    let query = |tag: &str, labels: Vec<Label>, rows: Vec<Vec<Value>>| {
        let schema = fields(&labels, format);
        let binary = schema
            .iter()
            .zip(&labels)
            .map(|(f, l)| (f.format() == FieldFormat::Binary).then(|| l.data_type.clone()))
            .collect();
        let mut response =
            QueryResponse::new(Arc::new(schema), stream::iter(data_rows(rows, binary)));
        response.set_command_tag(tag);
        Response::Query(response)
    };
    match result {
        StatementResult::Query { labels, rows } => query("SELECT", labels, rows),
        StatementResult::Returning { tag, labels, rows } => {
            // The protocol layer appends the row count.
            let command = tag.rsplit_once(' ').map_or(tag.as_str(), |(c, _)| c);
            query(command, labels, rows)
        }
        StatementResult::Empty => Response::EmptyQuery,
        StatementResult::CopyOut { data, columns, .. } => {
            // One CopyData per row, as PostgreSQL sends them (clients parse them that way).
            let pieces = data
                .into_iter()
                .map(|row| Ok(CopyData::new(bytes::Bytes::from(row))));
            Response::CopyOut(CopyResponse::new(0, columns, stream::iter(pieces)))
        }
        StatementResult::CopyIn(copy) => {
            Response::CopyIn(CopyResponse::new(0, copy.width(), stream::empty()))
        }
        other => Response::Execution(Tag::new(&other.tag())),
    }
}

/// Sends a statement's notices (NoticeResponse messages), before its result.
async fn send_notices<C>(client: &mut C, notices: Vec<zizhu_sql::Notice>) -> PgWireResult<()>
where
    C: Sink<PgWireBackendMessage> + Unpin,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    for notice in notices {
        let info = ErrorInfo::new(notice.severity.into(), notice.code.into(), notice.message);
        client
            .feed(PgWireBackendMessage::NoticeResponse(info.into()))
            .await?;
    }
    Ok(())
}

#[async_trait]
impl SimpleQueryHandler for Handler {
    async fn on_query<C>(&self, client: &mut C, query: Query) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if !matches!(client.state(), PgWireConnectionState::ReadyForQuery) {
            return Err(PgWireError::NotReadyForQuery);
        }
        client.set_state(PgWireConnectionState::QueryInProgress);
        let conn = connection(&self.db, &self.registry, client)?;
        let sql = query.query;
        let results = with_session(&self.timers, &conn, move |s| {
            s.execute_each_with_notices(&sql)
        });
        if results.is_empty() {
            client
                .feed(PgWireBackendMessage::EmptyQueryResponse(
                    EmptyQueryResponse::new(),
                ))
                .await?;
        }
        for (result, notices) in results {
            send_notices(client, notices).await?;
            if let Ok(StatementResult::CopyIn(copy)) = &result {
                // The data follows as CopyData; ReadyForQuery comes after CopyDone.
                *conn.copy.lock() = Some(((**copy).clone(), Vec::new()));
                let width = copy.width();
                send_copy_in_response(client, CopyResponse::new(0, width, stream::empty())).await?;
                client.set_state(PgWireConnectionState::CopyInProgress(false));
                return Ok(());
            }
            match result.map(|r| response(r, None)) {
                Ok(Response::Query(rows)) => send_query_response(client, rows, true).await?,
                Ok(Response::CopyOut(copy)) => send_copy_out_response(client, copy).await?,
                Ok(Response::Execution(tag)) => send_execution_response(client, tag).await?,
                Ok(Response::EmptyQuery) => {
                    client
                        .feed(PgWireBackendMessage::EmptyQueryResponse(
                            EmptyQueryResponse::new(),
                        ))
                        .await?
                }
                Ok(_) => {}
                Err(err) => {
                    client
                        .feed(PgWireBackendMessage::ErrorResponse(
                            wire::error_info(&err).into(),
                        ))
                        .await?
                }
            }
        }
        let status = conn.status();
        client.set_state(PgWireConnectionState::ReadyForQuery);
        client.set_transaction_status(status);
        send_ready_for_query(client, status).await
    }

    async fn do_query<C>(&self, _client: &mut C, _query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        Err(PgWireError::ApiError(
            "simple queries are answered by on_query (this is a bug)".into(),
        ))
    }
}

/// Prepares statements for the extended protocol (Parse) in the connection's session.
pub struct Parser {
    db: Arc<Database<RedbEngine>>,
    registry: Arc<Registry>,
    timers: tokio::runtime::Handle,
}

#[async_trait]
impl QueryParser for Parser {
    type Statement = Arc<Prepared>;

    async fn parse_sql<C>(
        &self,
        client: &C,
        sql: &str,
        types: &[Option<Type>],
    ) -> PgWireResult<Option<Self::Statement>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        let conn = connection(&self.db, &self.registry, client)?;
        let given: Vec<DataType> = types
            .iter()
            .map(|t| {
                t.as_ref()
                    .and_then(wire::data_type)
                    .unwrap_or(DataType::Unknown)
            })
            .collect();
        let sql = sql.to_string();
        let prepared = with_session(&self.timers, &conn, move |s| s.prepare(&sql, &given));
        prepared
            .map(|p| Some(Arc::new(p)))
            .map_err(|e| sql_error(&e))
    }

    fn get_parameter_types(&self, stmt: &Self::Statement) -> PgWireResult<Vec<Type>> {
        Ok(stmt.param_types().iter().map(wire::pg_type).collect())
    }

    fn get_result_schema(
        &self,
        stmt: &Self::Statement,
        column_format: Option<&Format>,
    ) -> PgWireResult<Vec<FieldInfo>> {
        Ok(stmt
            .labels()
            .map(|labels| fields(labels, column_format))
            .unwrap_or_default())
    }
}

#[async_trait]
impl ExtendedQueryHandler for Handler {
    type Statement = Arc<Prepared>;
    type QueryParser = Parser;

    fn query_parser(&self) -> Arc<Self::QueryParser> {
        self.parser.clone()
    }

    async fn on_parse<C>(&self, client: &mut C, message: Parse) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        // As pgwire's own, but the reply waits for Sync or Flush ([`crate::batch`]).
        let parser = self.query_parser();
        match StoredStatement::parse(client, &message, parser).await? {
            Some(stmt) => client.portal_store().put_statement(Arc::new(stmt)),
            None => {
                let name = message.name.as_deref().unwrap_or(DEFAULT_NAME);
                client.portal_store().put_empty_statement(name)
            }
        }
        client
            .feed(PgWireBackendMessage::ParseComplete(ParseComplete::new()))
            .await?;
        Ok(())
    }

    async fn on_bind<C>(&self, client: &mut C, message: Bind) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        // As pgwire's own, but the reply waits for Sync or Flush ([`crate::batch`]).
        let statement_name = message.statement_name.as_deref().unwrap_or(DEFAULT_NAME);
        match client.portal_store().get_statement(statement_name) {
            Some(Entry::Value(statement)) => {
                let portal = Portal::try_new(&message, statement)?;
                client.portal_store().put_portal(Arc::new(portal));
            }
            Some(Entry::Empty) => {
                if !message.parameters.is_empty() {
                    return Err(sql_error(&zizhu_sql::errinput!(
                        ProtocolViolation,
                        "bind message supplies {} parameters, but prepared statement \"{}\" requires 0",
                        message.parameters.len(),
                        message.statement_name.as_deref().unwrap_or("")
                    )));
                }
                let portal_name = message.portal_name.as_deref().unwrap_or(DEFAULT_NAME);
                client.portal_store().put_empty_portal(portal_name);
            }
            None => return Err(PgWireError::StatementNotFound(statement_name.to_owned())),
        }
        client
            .feed(PgWireBackendMessage::BindComplete(BindComplete::new()))
            .await?;
        Ok(())
    }

    async fn on_close<C>(&self, client: &mut C, message: Close) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let name = message.name.as_deref().unwrap_or(DEFAULT_NAME);
        match message.target_type {
            TARGET_TYPE_BYTE_STATEMENT => client.portal_store().rm_statement(name),
            TARGET_TYPE_BYTE_PORTAL => client.portal_store().rm_portal(name),
            _ => {}
        }
        client
            .feed(PgWireBackendMessage::CloseComplete(CloseComplete::new()))
            .await?;
        Ok(())
    }

    async fn on_describe<C>(&self, client: &mut C, message: Describe) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        self._on_describe(&mut Batched(client), message).await
    }

    async fn on_execute<C>(
        &self,
        client: &mut C,
        message: pgwire::messages::extendedquery::Execute,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let result = self._on_execute(&mut Batched(client), message).await;
        // ReadyForQuery at Sync reports the session's own state.
        let conn = connection(&self.db, &self.registry, client)?;
        client.set_transaction_status(conn.status());
        result
    }

    async fn do_describe_statement<C>(
        &self,
        _client: &mut C,
        target: &StoredStatement<Self::Statement>,
    ) -> PgWireResult<DescribeStatementResponse>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let stmt = &target.statement;
        Ok(DescribeStatementResponse::new(
            stmt.param_types().iter().map(wire::pg_type).collect(),
            stmt.labels()
                .map(|labels| fields(labels, None))
                .unwrap_or_default(),
        ))
    }

    async fn do_describe_portal<C>(
        &self,
        _client: &mut C,
        target: &Portal<Self::Statement>,
    ) -> PgWireResult<DescribePortalResponse>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let stmt = &target.statement.statement;
        Ok(DescribePortalResponse::new(
            stmt.labels()
                .map(|labels| fields(labels, Some(&target.result_column_format)))
                .unwrap_or_default(),
        ))
    }

    async fn do_query<C>(
        &self,
        client: &mut C,
        portal: &Portal<Self::Statement>,
        _max_rows: usize,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let prepared = portal.statement.statement.clone();
        let values = prepared
            .param_types()
            .iter()
            .enumerate()
            .map(|(i, ty)| {
                let bytes = portal.parameters.get(i).and_then(|p| p.as_deref());
                wire::parse_param(bytes, ty, portal.parameter_format.is_binary(i))
            })
            .collect::<zizhu_sql::Result<Vec<_>>>();
        let values = match values {
            Ok(values) => values,
            Err(err) => return Err(sql_error(&err)),
        };
        if portal.parameters.len() != prepared.param_types().len() {
            return Err(sql_error(&zizhu_sql::errinput!(
                ProtocolViolation,
                "bind message supplies {} parameters, but prepared statement requires {}",
                portal.parameters.len(),
                prepared.param_types().len()
            )));
        }
        let conn = connection(&self.db, &self.registry, client)?;
        let format = portal.result_column_format.clone();
        let (result, notices) = with_session(&self.timers, &conn, move |s| {
            let result = s.execute_prepared(&prepared, values);
            (result, s.take_notices())
        });
        send_notices(client, notices).await?;
        match result {
            Ok(result) => Ok(response(result, Some(&format))),
            Err(err) => Err(sql_error(&err)),
        }
    }
}

#[async_trait]
impl CopyHandler for Handler {
    async fn on_copy_data<C>(&self, client: &mut C, data: CopyData) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let conn = connection(&self.db, &self.registry, client)?;
        if let Some((_, buffer)) = conn.copy.lock().as_mut() {
            buffer.extend_from_slice(&data.data);
        }
        Ok(())
    }

    async fn on_copy_done<C>(&self, client: &mut C, _done: CopyDone) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let conn = connection(&self.db, &self.registry, client)?;
        let pending = conn.copy.lock().take();
        let Some((copy, data)) = pending else {
            return Err(PgWireError::ApiError(
                "CopyDone without a COPY in progress".into(),
            ));
        };
        let result = with_session(&self.timers, &conn, move |s| s.copy_in(&copy, &data));
        client.set_transaction_status(conn.status());
        match result {
            Ok(result) => {
                send_execution_response(client, Tag::new(&result.tag())).await?;
                Ok(())
            }
            Err(err) => Err(sql_error(&err)),
        }
    }

    async fn on_copy_fail<C>(&self, client: &mut C, fail: CopyFail) -> PgWireError
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let conn = match connection(&self.db, &self.registry, client) {
            Ok(conn) => conn,
            Err(err) => return err,
        };
        conn.copy.lock().take();
        // A COPY inside a block fails the block, as any failed statement does.
        with_session(&self.timers, &conn, |s| s.fail_block());
        client.set_transaction_status(conn.status());
        sql_error(&zizhu_sql::errinput!(
            QueryCanceled,
            "COPY from stdin failed: {}",
            fail.message
        ))
    }
}

#[async_trait]
impl CancelHandler for Handler {
    async fn on_cancel_request(&self, request: CancelRequest) {
        let key = (request.pid, request.secret_key.to_bytes().to_vec());
        let conn = self
            .registry
            .connections
            .lock()
            .get(&key)
            .and_then(Weak::upgrade);
        if let Some(conn) = conn {
            conn.interrupt.cancel();
        }
    }
}

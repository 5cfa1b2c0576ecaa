//! NOTIFICATION messages (RFC 4271 §4.5, §6): what rovgate sends when it closes a session,
//! and what a peer sent when it closed one.
//!
//! Where it sits: every check on a peer's bytes (`wire`, `open`) and the FSM (`fsm`) fail
//! with a [`Notification`]; the session task writes it (`wire::notification`) and logs it.
//! rovgate builds its own from a [`Reason`], so no code or subcode is spelled as a number
//! outside the table below; a peer's are read with [`Notification::new`] and keep any code.

use bytes::Bytes;

/// Declares [`Reason`] from one table of (code, subcode, name), so the wire values and the
/// names for logs cannot drift apart.
macro_rules! reasons {
    ($($(#[$doc:meta])* $reason:ident = ($code:literal, $subcode:literal, $name:literal),)*) => {
        /// Why a session is closed: a NOTIFICATION's code and subcode (RFC 4271 §4.5 and
        /// §6, RFC 4486 and RFC 9003 Cease subcodes, RFC 6608 FSM subcodes, RFC 7313
        /// ROUTE-REFRESH errors, RFC 9687 Send Hold Timer Expired). Subcode 0 is the code's
        /// "Unspecific".
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Reason {
            $($(#[$doc])* $reason,)*
        }

        impl Reason {
            /// The code and subcode on the wire.
            pub fn code(self) -> (u8, u8) {
                match self {
                    $(Reason::$reason => ($code, $subcode),)*
                }
            }

            /// The reason a code and subcode stand for, if rovgate knows them.
            fn from_code(code: u8, subcode: u8) -> Option<Reason> {
                match (code, subcode) {
                    $(($code, $subcode) => Some(Reason::$reason),)*
                    _ => None,
                }
            }

            /// Its name, for logs.
            fn name(self) -> &'static str {
                match self {
                    $(Reason::$reason => $name,)*
                }
            }
        }
    };
}

reasons! {
    /// 1/0: Message Header Error, no subcode.
    HeaderError = (1, 0, "message header error"),
    /// 1/1: Connection Not Synchronized (a bad marker).
    ConnectionNotSynchronized = (1, 1, "message header: connection not synchronized"),
    /// 1/2: Bad Message Length; data: the length field.
    BadMessageLength = (1, 2, "message header: bad message length"),
    /// 1/3: Bad Message Type; data: the type field.
    BadMessageType = (1, 3, "message header: bad message type"),
    /// 2/0: OPEN Message Error, Unspecific (a malformed optional parameter or capability).
    OpenError = (2, 0, "OPEN message error"),
    /// 2/1: Unsupported Version Number; data: the version rovgate speaks, as a u16.
    UnsupportedVersion = (2, 1, "OPEN: unsupported version number"),
    /// 2/2: Bad Peer AS.
    BadPeerAs = (2, 2, "OPEN: bad peer AS"),
    /// 2/3: Bad BGP Identifier.
    BadBgpId = (2, 3, "OPEN: bad BGP identifier"),
    /// 2/4: Unsupported Optional Parameter.
    UnsupportedOptionalParameter = (2, 4, "OPEN: unsupported optional parameter"),
    /// 2/6: Unacceptable Hold Time.
    UnacceptableHoldTime = (2, 6, "OPEN: unacceptable hold time"),
    /// 2/7: Unsupported Capability (RFC 5492); data: the capabilities.
    UnsupportedCapability = (2, 7, "OPEN: unsupported capability"),
    /// 2/11: Role Mismatch (RFC 9234).
    RoleMismatch = (2, 11, "OPEN: role mismatch"),
    /// 3/0: UPDATE Message Error, no subcode.
    UpdateError = (3, 0, "UPDATE message error"),
    /// 3/1: Malformed Attribute List.
    MalformedAttributeList = (3, 1, "UPDATE: malformed attribute list"),
    /// 3/2: Unrecognized Well-known Attribute; data: the attribute.
    UnrecognizedWellKnown = (3, 2, "UPDATE: unrecognized well-known attribute"),
    /// 3/3: Missing Well-known Attribute.
    MissingWellKnown = (3, 3, "UPDATE: missing well-known attribute"),
    /// 3/4: Attribute Flags Error.
    AttributeFlags = (3, 4, "UPDATE: attribute flags error"),
    /// 3/5: Attribute Length Error.
    AttributeLength = (3, 5, "UPDATE: attribute length error"),
    /// 3/6: Invalid ORIGIN Attribute.
    InvalidOrigin = (3, 6, "UPDATE: invalid ORIGIN attribute"),
    /// 3/8: Invalid NEXT_HOP Attribute.
    InvalidNextHop = (3, 8, "UPDATE: invalid NEXT_HOP attribute"),
    /// 3/9: Optional Attribute Error; data: the attribute.
    OptionalAttribute = (3, 9, "UPDATE: optional attribute error"),
    /// 3/10: Invalid Network Field.
    InvalidNetwork = (3, 10, "UPDATE: invalid network field"),
    /// 3/11: Malformed AS_PATH.
    MalformedAsPath = (3, 11, "UPDATE: malformed AS_PATH"),
    /// 4/0: Hold Timer Expired.
    HoldTimerExpired = (4, 0, "hold timer expired"),
    /// 5/0: Finite State Machine Error, unspecified.
    FsmError = (5, 0, "finite state machine error"),
    /// 5/1: an unexpected message in OpenSent (RFC 6608).
    UnexpectedInOpenSent = (5, 1, "finite state machine error: unexpected message in OpenSent"),
    /// 5/2: an unexpected message in OpenConfirm (RFC 6608).
    UnexpectedInOpenConfirm = (5, 2, "finite state machine error: unexpected message in OpenConfirm"),
    /// 5/3: an unexpected message in Established (RFC 6608).
    UnexpectedInEstablished = (5, 3, "finite state machine error: unexpected message in Established"),
    /// 6/0: Cease, no subcode.
    Cease = (6, 0, "cease"),
    /// 6/1: Cease, Maximum Number of Prefixes Reached (RFC 4486); data: AFI, SAFI, limit.
    MaxPrefixes = (6, 1, "cease: maximum number of prefixes reached"),
    /// 6/2: Cease, Administrative Shutdown; data: an RFC 9003 shutdown communication, if any.
    AdministrativeShutdown = (6, 2, "cease: administrative shutdown"),
    /// 6/3: Cease, Peer De-configured.
    PeerDeconfigured = (6, 3, "cease: peer de-configured"),
    /// 6/4: Cease, Administrative Reset; data: an RFC 9003 shutdown communication, if any.
    AdministrativeReset = (6, 4, "cease: administrative reset"),
    /// 6/5: Cease, Connection Rejected.
    ConnectionRejected = (6, 5, "cease: connection rejected"),
    /// 6/6: Cease, Other Configuration Change.
    OtherConfigurationChange = (6, 6, "cease: other configuration change"),
    /// 6/7: Cease, Connection Collision Resolution.
    ConnectionCollision = (6, 7, "cease: connection collision resolution"),
    /// 6/8: Cease, Out of Resources.
    OutOfResources = (6, 8, "cease: out of resources"),
    /// 6/9: Cease, Hard Reset (RFC 8538).
    HardReset = (6, 9, "cease: hard reset"),
    /// 6/10: Cease, BFD Down (RFC 9384).
    BfdDown = (6, 10, "cease: BFD down"),
    /// 7/0: ROUTE-REFRESH Message Error, no subcode (RFC 7313).
    RouteRefreshError = (7, 0, "ROUTE-REFRESH message error"),
    /// 7/1: ROUTE-REFRESH Invalid Message Length (RFC 7313); data: the message.
    BadRouteRefreshLength = (7, 1, "ROUTE-REFRESH message error: invalid message length"),
    /// 8/0: Send Hold Timer Expired (RFC 9687).
    SendHoldTimerExpired = (8, 0, "send hold timer expired"),
}

/// A NOTIFICATION to send (or received): code, subcode and data (RFC 4271 §4.5).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("NOTIFICATION {code}/{subcode} ({})", self.describe())]
pub struct Notification {
    /// Error code.
    pub code: u8,
    /// Error subcode.
    pub subcode: u8,
    /// Data, as the RFC for the code says.
    pub data: Bytes,
}

impl Notification {
    /// A NOTIFICATION with any code, subcode and data: one a peer sent.
    pub fn new(code: u8, subcode: u8, data: impl Into<Bytes>) -> Self {
        Notification {
            code,
            subcode,
            data: data.into(),
        }
    }

    /// rovgate's NOTIFICATION for `reason`, with the data its RFC asks for.
    pub fn with_data(reason: Reason, data: impl Into<Bytes>) -> Self {
        let (code, subcode) = reason.code();
        Notification::new(code, subcode, data)
    }

    /// Whether it is a Cease (code 6): the sender closed on purpose, not on an error.
    pub fn is_cease(&self) -> bool {
        self.code == Reason::Cease.code().0
    }

    /// The name of its code and subcode, for logs; an unknown subcode is named by its code.
    pub fn describe(&self) -> &'static str {
        Reason::from_code(self.code, self.subcode)
            .or_else(|| Reason::from_code(self.code, 0))
            .map_or("unknown error code", Reason::name)
    }
}

impl From<Reason> for Notification {
    /// rovgate's NOTIFICATION for `reason`, without data.
    fn from(reason: Reason) -> Self {
        Notification::with_data(reason, Bytes::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_and_names_are_one_table() {
        let n = Notification::from(Reason::ConnectionCollision);
        assert_eq!((n.code, n.subcode, n.data.len()), (6, 7, 0));
        assert_eq!(n.describe(), "cease: connection collision resolution");
        assert!(n.is_cease());
        let sent = Notification::with_data(Reason::UnsupportedVersion, vec![0, 4]);
        assert_eq!(sent, Notification::new(2, 1, vec![0, 4]));
        assert!(!sent.is_cease());
        assert_eq!(
            Notification::new(4, 9, Bytes::new()).describe(),
            "hold timer expired"
        );
        assert_eq!(
            Notification::new(2, 99, Bytes::new()).describe(),
            "OPEN message error"
        );
        assert_eq!(
            Notification::new(0, 0, Bytes::new()).describe(),
            "unknown error code"
        );
        assert_eq!(
            Notification::from(Reason::SendHoldTimerExpired).to_string(),
            "NOTIFICATION 8/0 (send hold timer expired)"
        );
    }
}
